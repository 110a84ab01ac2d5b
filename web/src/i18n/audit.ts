import type { Dict } from './dict';

const en = {
  heading: 'audit',
} as const;

const sv: Dict<typeof en> = {
  heading: 'audit',
};

export default { en, sv };
