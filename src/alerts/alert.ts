/**
 * An alert as the CLI prints it, the API answers and the outputs send: words and positions, never
 * an identifier.
 */
import type { AlertRow } from '../db/alerts-repository.js';
import type { Evidence } from './evidence.js';

/** an alert as the CLI prints it and the API answers */
export interface AlertView {
  id: string;
  rule: string;
  severity: string;
  /** the account's username (or `cli:NAME` for the operator on the host) */
  user: string | null;
  userId: string | null;
  role: string | null;
  createdAt: string;
  updatedAt: string;
  state: 'open' | 'closed';
  recordings: string[];
  controllers: string[];
  evidence: string;
  /** the evidence as facts, for readers that phrase it in their own language; null for alerts raised before they were kept */
  evidenceFacts: Evidence | null;
  /** the audit positions that are the evidence */
  entries: number[];
  outcome: string | null;
  note: string | null;
  resolvedBy: string | null;
  /** the resolver's username, as the listing finds it (null while open, or for an account gone) */
  resolvedByName: string | null;
  resolvedAt: string | null;
}

export function alertView(row: AlertRow): AlertView {
  return {
    id: row.id,
    rule: row.rule,
    severity: row.severity,
    user: row.username,
    userId: row.user_id,
    role: row.role,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    state: row.state,
    recordings: JSON.parse(row.recordings) as string[],
    controllers: row.controllers ? row.controllers.split(',') : [],
    evidence: row.evidence,
    evidenceFacts: row.evidence_facts ? (JSON.parse(row.evidence_facts) as Evidence) : null,
    entries: JSON.parse(row.entries) as number[],
    outcome: row.outcome,
    note: row.note,
    resolvedBy: row.resolved_by,
    resolvedByName: null,
    resolvedAt: row.resolved_at,
  };
}
