/** The roles a human account can hold (the brief's table of users). */
export const ROLES = ['nurse', 'supervisor', 'dpo', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
