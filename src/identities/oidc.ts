/**
 * Sign-in through an organisation's own OpenID Connect provider (authorization-code flow with
 * PKCE S256, state and nonce, via openid-client).
 *
 * The pending sign-in (state, nonce, PKCE code verifier, provider id, start time) lives in a
 * short-lived cookie, not in server memory, so the callback may land on any server process. The
 * cookie is sealed with AES-256-GCM under a key derived from the installation secret
 * (`oidc-state`): a client can neither read the code verifier nor forge or alter the state. It is
 * HttpOnly, Secure, SameSite=Lax (the provider's redirect back is a cross-site top-level GET) and
 * is accepted for STATE_TTL_MS (10 minutes) after the start; the callback clears it whatever the
 * outcome.
 *
 * Who may sign in: the ID token's `sub`, together with the configured `issuer`, must name an
 * account an administrator made beforehand (users.oidc_issuer = issuer exactly as configured,
 * users.oidc_subject = sub). There is no provisioning on first sign-in. A disabled account is
 * refused.
 *
 * Multi-factor authentication: callvault does not ask for a second factor of its own here, so with
 * `requireMfa` (the default) the ID token must show that the provider did:
 *   - its `amr` claim (RFC 8176) contains `mfa`, or methods of at least two different kinds of
 *     factor (AMR_FACTORS: something known, something held, something one is), e.g. `pwd` + `otp`
 *     or `hwk` + `pin`; a single method such as `otp` or `hwk` is one factor, and so are two of
 *     one kind (`otp` + `sms`), or
 *   - its `acr` claim is one of the provider's configured `mfaAcrValues`
 *     (for providers that express MFA as an authentication context class instead).
 * A token showing neither is refused. Turn `requireMfa` off only for a provider that enforces MFA
 * for every sign-in to this client but does not say so in its tokens.
 *
 * Refusals are CallvaultError SIGNIN_FAILED (HTTP 401) carrying a short reason for the audit log;
 * their messages never contain tokens, codes or claims.
 */
import * as client from 'openid-client';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { open, seal } from '../util/aead.js';
import type { User } from '../db/users-repository.js';
import type { Vault } from '../vault.js';

export interface OidcProviderConfig {
  /** short name in URLs: lower-case letters, digits, '-' and '_' */
  id: string;
  /** the Issuer Identifier; accounts are linked to this exact string */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** shown on the sign-in page; defaults to the id */
  label?: string;
  /**
   * callvault's public base URL (https, no path), as browsers reach it; the redirect URI to
   * register at the provider is `${redirectBaseUrl}/api/v1/auth/oidc/${id}/callback`
   */
  redirectBaseUrl: string;
  /** refuse ID tokens that do not show multi-factor authentication (default true) */
  requireMfa?: boolean;
  /** `acr` values that count as multi-factor authentication at this provider */
  mfaAcrValues?: string[];
  /** how callvault authenticates at the token endpoint (default client_secret_basic) */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /**
   * In-process only (tests): openid-client extensions run on the discovered configuration, e.g.
   * `allowInsecureRequests` for a plain-http test issuer. oidc.json cannot carry functions, and
   * `parseProviderConfigs` refuses the key.
   */
  execute?: ReadonlyArray<(config: client.Configuration) => void>;
}

export const OIDC_STATE_COOKIE = '__Host-callvault-oidc';
export const STATE_TTL_MS = 10 * 60_000;
/**
 * The kind of factor each RFC 8176 method is. Methods that are no factor of their own (`user`
 * presence, `rba` risk scores, `geo`, `mca` channels, `wia`) are not listed and count for nothing;
 * `fido` is not in RFC 8176 but some providers send it for a security key.
 */
export const AMR_FACTORS: Readonly<Record<string, 'knowledge' | 'possession' | 'inherence'>> = {
  pwd: 'knowledge',
  pin: 'knowledge',
  kba: 'knowledge',
  otp: 'possession',
  sms: 'possession',
  tel: 'possession',
  hwk: 'possession',
  swk: 'possession',
  sc: 'possession',
  pop: 'possession',
  fido: 'possession',
  fpt: 'inherence',
  face: 'inherence',
  iris: 'inherence',
  retina: 'inherence',
  vbm: 'inherence',
};
export const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const PROVIDER_ID_PATTERN = PROVIDER_ID.source;

const STATE_AAD = Buffer.from('callvault/oidc-state/v1', 'utf8');
const MAX_STATE_COOKIE = 2048;
/** a state cookie stamped this far in the future (clock steps between processes) is still taken */
const CLOCK_SKEW_MS = 60_000;

export type OidcFailureReason = 'unknown-provider' | 'provider-unavailable' | 'state' | 'provider-error' | 'token' | 'no-account' | 'disabled' | 'mfa';

export class OidcSignInError extends CallvaultError {
  constructor(
    /** for the audit log */
    readonly reason: OidcFailureReason,
    message: string,
    /** the account, once the ID token named one; for the audit log */
    readonly user?: User,
    /** an OAuth error code or openid-client error code (short, fixed vocabulary); for the audit log */
    readonly providerError?: string,
  ) {
    super(reason === 'unknown-provider' ? ErrorCodes.NOT_FOUND : ErrorCodes.SIGNIN_FAILED, message);
  }
}

interface PendingSignIn {
  v: 1;
  /** provider id */
  p: string;
  /** state */
  s: string;
  /** nonce */
  n: string;
  /** PKCE code verifier */
  c: string;
  /** created, ms since the epoch */
  t: number;
}

const CONFIG_KEYS = new Set(['id', 'issuer', 'clientId', 'clientSecret', 'label', 'redirectBaseUrl', 'requireMfa', 'mfaAcrValues', 'tokenEndpointAuthMethod']);

/**
 * Checks provider configurations read from a file (oidc.json): an array of objects with only the
 * documented keys, https URLs and unique ids. Throws a USAGE error naming the entry and field.
 */
export function parseProviderConfigs(value: unknown): OidcProviderConfig[] {
  if (!Array.isArray(value)) throw usage('the OpenID provider configuration must be a JSON array');
  const configs = value.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw usage(`OpenID provider ${i}: not an object`);
    for (const key of Object.keys(entry)) {
      if (!CONFIG_KEYS.has(key)) throw usage(`OpenID provider ${i}: unknown field "${key.slice(0, 40)}"`);
    }
    const config = entry as OidcProviderConfig;
    if (typeof config.issuer !== 'string' || !isHttpsUrl(config.issuer)) throw usage(`OpenID provider ${i}: "issuer" must be an https URL`);
    return config;
  });
  assertProviderConfigs(configs);
  return configs;
}

/** Structural checks for configurations from any source; throws a USAGE error. */
export function assertProviderConfigs(configs: readonly OidcProviderConfig[]): void {
  const ids = new Set<string>();
  configs.forEach((c, i) => {
    const where = `OpenID provider ${i}`;
    if (typeof c.id !== 'string' || !PROVIDER_ID.test(c.id)) throw usage(`${where}: "id" must be 1 to 63 lower-case letters, digits, '-' or '_'`);
    if (ids.has(c.id)) throw usage(`${where}: the id "${c.id}" is used twice`);
    ids.add(c.id);
    if (typeof c.issuer !== 'string' || !isUrl(c.issuer)) throw usage(`${where}: "issuer" must be a URL`);
    if (typeof c.clientId !== 'string' || c.clientId.length === 0) throw usage(`${where}: "clientId" is required`);
    if (typeof c.clientSecret !== 'string' || c.clientSecret.length === 0) throw usage(`${where}: "clientSecret" is required`);
    if (c.label !== undefined && (typeof c.label !== 'string' || c.label.length === 0 || c.label.length > 100)) throw usage(`${where}: "label" must be 1 to 100 characters`);
    if (typeof c.redirectBaseUrl !== 'string' || !isHttpsUrl(c.redirectBaseUrl)) throw usage(`${where}: "redirectBaseUrl" (callvault's public https URL) is required`);
    const base = new URL(c.redirectBaseUrl);
    if (base.search || base.hash || base.username || base.password || (base.pathname !== '/' && base.pathname !== '')) {
      throw usage(`${where}: "redirectBaseUrl" is scheme, host and port only, e.g. https://callvault.example.org`);
    }
    if (c.requireMfa !== undefined && typeof c.requireMfa !== 'boolean') throw usage(`${where}: "requireMfa" must be true or false`);
    if (c.mfaAcrValues !== undefined && (!Array.isArray(c.mfaAcrValues) || !c.mfaAcrValues.every((v) => typeof v === 'string' && v.length > 0))) {
      throw usage(`${where}: "mfaAcrValues" must be an array of strings`);
    }
    if (c.tokenEndpointAuthMethod !== undefined && c.tokenEndpointAuthMethod !== 'client_secret_basic' && c.tokenEndpointAuthMethod !== 'client_secret_post') {
      throw usage(`${where}: "tokenEndpointAuthMethod" is client_secret_basic or client_secret_post`);
    }
  });
}

export function redirectUri(config: OidcProviderConfig): string {
  return `${config.redirectBaseUrl.replace(/\/+$/, '')}/api/v1/auth/oidc/${config.id}/callback`;
}

/** The configured providers and the flow against them; server metadata is discovered once per process. */
export class OidcProviders {
  readonly #configs = new Map<string, OidcProviderConfig>();
  readonly #discovered = new Map<string, Promise<client.Configuration>>();

  constructor(configs: readonly OidcProviderConfig[]) {
    assertProviderConfigs(configs);
    for (const c of configs) this.#configs.set(c.id, { ...c });
  }

  list(): { id: string; label: string }[] {
    return [...this.#configs.values()].map((c) => ({ id: c.id, label: c.label ?? c.id }));
  }

  has(id: string): boolean {
    return this.#configs.has(id);
  }

  /** The provider's authorization URL and the sealed cookie value that must come back with the callback. */
  async begin(vault: Pick<Vault, 'keys'>, id: string, now = new Date()): Promise<{ url: URL; stateCookie: string }> {
    const provider = this.#config(id);
    const config = await this.#discover(provider);
    const verifier = client.randomPKCECodeVerifier();
    const pending: PendingSignIn = { v: 1, p: provider.id, s: client.randomState(), n: client.randomNonce(), c: verifier, t: now.getTime() };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri(provider),
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.s,
      nonce: pending.n,
    });
    const sealed = seal(stateKey(vault), Buffer.from(JSON.stringify(pending), 'utf8'), STATE_AAD);
    return { url, stateCookie: sealed.toString('base64url') };
  }

  /**
   * Completes a sign-in: `stateCookie` is the sealed value from `begin`, `query` the callback's raw
   * query string. Resolves with the linked, enabled account and how MFA was shown; throws
   * OidcSignInError otherwise.
   */
  async complete(vault: Pick<Vault, 'keys' | 'users'>, id: string, stateCookie: string | undefined, query: string, now = new Date()): Promise<{ user: User; mfa: string }> {
    const provider = this.#config(id);
    const pending = readPending(vault, stateCookie);
    const age = now.getTime() - (pending?.t ?? 0);
    if (!pending || pending.p !== provider.id || age > STATE_TTL_MS || age < -CLOCK_SKEW_MS) {
      throw new OidcSignInError('state', 'this sign-in has expired or was not started here: start it again');
    }
    // openid-client checks this too; checked here first so that a mismatch is audited as one
    if (new URLSearchParams(query).get('state') !== pending.s) {
      throw new OidcSignInError('state', 'this sign-in has expired or was not started here: start it again');
    }
    const config = await this.#discover(provider);
    const currentUrl = new URL(redirectUri(provider));
    currentUrl.search = query;
    let claims: client.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: pending.c,
        expectedState: pending.s,
        expectedNonce: pending.n,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (err) {
      if (err instanceof client.AuthorizationResponseError) {
        throw new OidcSignInError('provider-error', 'the identity provider did not complete the sign-in', undefined, errorCode(err.error));
      }
      throw new OidcSignInError(
        'token',
        "the identity provider's answer could not be verified",
        undefined,
        errorCode((err as { error?: unknown }).error) ?? errorCode((err as { code?: unknown }).code),
      );
    }
    if (!claims || typeof claims.sub !== 'string' || claims.sub.length === 0) {
      throw new OidcSignInError('token', "the identity provider's answer could not be verified");
    }
    const user = await vault.users.byOidc(provider.issuer, claims.sub);
    if (!user) throw new OidcSignInError('no-account', 'no usable callvault account is linked to this identity');
    if (user.disabled) throw new OidcSignInError('disabled', 'no usable callvault account is linked to this identity', user);
    const mfa = mfaShown(provider, claims);
    if (!mfa) {
      throw new OidcSignInError('mfa', 'the identity provider did not report multi-factor authentication: sign in there with a second factor', user);
    }
    return { user, mfa };
  }

  #config(id: string): OidcProviderConfig {
    const provider = this.#configs.get(id);
    if (!provider) throw new OidcSignInError('unknown-provider', 'no such identity provider');
    return provider;
  }

  /** discovery once per process; a failure is not cached, so the next sign-in tries again */
  #discover(provider: OidcProviderConfig): Promise<client.Configuration> {
    let discovered = this.#discovered.get(provider.id);
    if (!discovered) {
      const auth = provider.tokenEndpointAuthMethod === 'client_secret_post' ? client.ClientSecretPost(provider.clientSecret) : client.ClientSecretBasic(provider.clientSecret);
      discovered = client
        .discovery(new URL(provider.issuer), provider.clientId, { client_secret: provider.clientSecret }, auth, {
          timeout: 10,
          execute: provider.execute ? [...provider.execute] : undefined,
        })
        .catch((err: unknown) => {
          this.#discovered.delete(provider.id);
          throw new OidcSignInError('provider-unavailable', 'the identity provider cannot be reached', undefined, errorCode((err as { code?: unknown }).code));
        });
      this.#discovered.set(provider.id, discovered);
    }
    return discovered;
  }
}

/**
 * How the ID token shows MFA ('amr:mfa', 'amr:otp+pwd' (its factor methods, sorted), 'acr',
 * 'not-required'), or undefined when it does not.
 */
export function mfaShown(provider: Pick<OidcProviderConfig, 'requireMfa' | 'mfaAcrValues'>, claims: { readonly [claim: string]: unknown }): string | undefined {
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((v): v is string => typeof v === 'string') : [];
  if (amr.includes('mfa')) return 'amr:mfa';
  const methods = [...new Set(amr.filter((v) => Object.hasOwn(AMR_FACTORS, v)))].sort();
  if (new Set(methods.map((v) => AMR_FACTORS[v])).size >= 2) return `amr:${methods.join('+')}`;
  if (typeof claims.acr === 'string' && (provider.mfaAcrValues ?? []).includes(claims.acr)) return 'acr';
  return provider.requireMfa === false ? 'not-required' : undefined;
}

function readPending(vault: Pick<Vault, 'keys'>, cookie: string | undefined): PendingSignIn | undefined {
  if (!cookie || cookie.length > MAX_STATE_COOKIE || !/^[A-Za-z0-9_-]+$/.test(cookie)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(open(stateKey(vault), Buffer.from(cookie, 'base64url'), STATE_AAD).toString('utf8'));
  } catch (err) {
    if (err instanceof CallvaultError && err.code !== ErrorCodes.DECRYPTION_FAILED) throw err; // e.g. a locked keyring
    return undefined;
  }
  const p = value as Partial<PendingSignIn>;
  if (p?.v !== 1 || typeof p.p !== 'string' || typeof p.s !== 'string' || typeof p.n !== 'string' || typeof p.c !== 'string' || typeof p.t !== 'number') return undefined;
  return p as PendingSignIn;
}

function stateKey(vault: Pick<Vault, 'keys'>): Buffer {
  return vault.keys.derivedSecret('oidc-state');
}

/** an OAuth error code or a library error code, when it has the expected shape; nothing else from the provider is kept */
function errorCode(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : undefined;
}

function isUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

function isHttpsUrl(value: string): boolean {
  return isUrl(value) && new URL(value).protocol === 'https:';
}

function usage(message: string): CallvaultError {
  return new CallvaultError(ErrorCodes.USAGE, message);
}
