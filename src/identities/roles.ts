/** The roles a human account can hold (the brief's table of users). */
export const ROLES = ['nurse', 'supervisor', 'dpo', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The roles that reach recordings: creating, resetting or re-enabling such an account waits for
 * a second person's approval (docs/access.md, "Approval").
 */
export const RECORDING_ROLES: readonly Role[] = ['nurse', 'supervisor', 'dpo'];
