import type { Dict } from './dict';

const en = {
  heading: 'admin',
} as const;

const sv: Dict<typeof en> = {
  heading: 'admin',
};

export default { en, sv };
