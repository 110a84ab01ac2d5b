import type { Dict } from './dict';

const en = {
  heading: 'privacy',
} as const;

const sv: Dict<typeof en> = {
  heading: 'privacy',
};

export default { en, sv };
