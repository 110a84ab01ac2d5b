/**
 * Four-eyes (docs/access.md, "Approval"): what an administrator asked for on an account that waits
 * for the controller's privacy officer. The administration page shows it, the officer decides on it.
 */
export const APPROVAL_REQUESTS = ['create', 'reset', 'enable'] as const;
export type ApprovalRequest = (typeof APPROVAL_REQUESTS)[number];

/** the request named on an account; one that names none was made */
export function requestOf(request: string | null | undefined): ApprovalRequest {
  return (APPROVAL_REQUESTS as readonly string[]).includes(request ?? '') ? (request as ApprovalRequest) : 'create';
}
