/**
 * The signed-in session as every page sees it: who the user is and what the server says they may
 * do. The interface keeps no copy of the access policy: menus, buttons and choices follow
 * `permissions`, `purposes` and `renditions` from the session answer, and the break-the-glass
 * periods in force come from there too, so a reload shows them as long as they last.
 * The provider (sign-in, expiry) is features/signin/SessionProvider.tsx.
 */
import { createContext, useContext } from 'react';
import type { paths } from './api/schema';

export type SessionBody = paths['/api/v1/auth/session']['get']['responses'][200]['content']['application/json'];
export type Permission = SessionBody['permissions'][number];
export type Purpose = SessionBody['purposes'][number];
export type Rendition = SessionBody['renditions'][number];
/** the roles the interface has a name for (common:roles) */
export type Role = 'nurse' | 'supervisor' | 'dpo' | 'auditor' | 'admin';

export interface User {
  id: string;
  username: string;
  role: Role;
  controllerId: string | null;
  processorId: string | null;
  agent: string | null;
  team: string | null;
}

export interface BreakGlassPeriod {
  id: string;
  controllerId: string;
  expiresAt: string;
}

/**
 * What people call the organisations, regions and agents the answers name by id (the session
 * answer's `names`): each function gives the display name, or the id itself when none is set.
 */
export interface Names {
  controller: (id: string | null | undefined) => string;
  processor: (id: string | null | undefined) => string;
  region: (id: string | null | undefined) => string;
  agent: (id: string | null | undefined) => string;
  /** the regions and agents with a name, for choosing one by it */
  regions: ReadonlyArray<{ id: string; name: string }>;
  agents: ReadonlyArray<{ id: string; name: string }>;
  controllers: ReadonlyArray<{ id: string; name: string }>;
  /** a region or agent typed by its name (any case) or its id → its id */
  regionId: (typed: string) => string;
  agentId: (typed: string) => string;
}

export function namesOf(directory: SessionBody['names'] | undefined): Names {
  const lookup = (list: ReadonlyArray<{ id: string; name: string }> = []) => {
    const byId = new Map(list.map((n) => [n.id, n.name]));
    return (id: string | null | undefined) => (id ? (byId.get(id) ?? id) : '—');
  };
  const idOf = (list: ReadonlyArray<{ id: string; name: string }> = []) => {
    return (typed: string) => {
      const t = typed.trim();
      return list.find((n) => n.name.toLocaleLowerCase('sv') === t.toLocaleLowerCase('sv'))?.id ?? t;
    };
  };
  return {
    controller: lookup(directory?.controllers),
    processor: lookup(directory?.processors),
    region: lookup(directory?.regions),
    agent: lookup(directory?.agents),
    regions: directory?.regions ?? [],
    agents: directory?.agents ?? [],
    controllers: directory?.controllers ?? [],
    regionId: idOf(directory?.regions),
    agentId: idOf(directory?.agents),
  };
}

export interface Session {
  user: User;
  /** may the user do this at all? (the server still decides on each recording) */
  can: (permission: Permission) => boolean;
  purposes: readonly Purpose[];
  /** the renditions the user may ask for, the redacted one first */
  renditions: readonly Rendition[];
  /** the user's break-the-glass periods in force now */
  breakGlass: readonly BreakGlassPeriod[];
  names: Names;
  /** asks the server again, after something that changes the answer (break-the-glass begun or ended) */
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

/** display names of controllers, processors, regions and agents (an id without one is shown as it is) */
export function useNames(): Names {
  return useSession().names;
}

export function useSession(): Session {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside a signed-in page');
  return value;
}
