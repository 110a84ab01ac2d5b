/**
 * A witness keeps copies of checkpoints outside the database, so that whoever rewrites the
 * database cannot also rewrite what the witness saw. `audit verify --witness` later checks the
 * log against every checkpoint a witness kept.
 */
export interface WitnessedCheckpoint {
  /** the signed note */
  note: string;
  size: number;
}

export interface Witness {
  /** for messages: what kind of witness and where, never a secret */
  readonly description: string;
  /**
   * Hands over a new checkpoint. `consistencyProof(oldSize)` proves the new checkpoint extends
   * an older tree size the witness reports having seen (C2SP tlog-witness asks for one).
   */
  send(checkpoint: WitnessedCheckpoint, consistencyProof: (oldSize: number) => Promise<Buffer[]>): Promise<void>;
}
