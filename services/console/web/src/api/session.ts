// The signed-in person, as the console's session says: who, for which department, with which roles, and the token
// every change must carry back (CSRF). Sessions live in the console's database behind an HttpOnly cookie; the page
// never sees a bearer token.
import { defineStore } from 'pinia';
import { ref, computed } from 'vue';

export interface Me {
  subject: string;
  displayName: string;
  department: string;
  roles: string[];
  // The person's id in the directory of inspectors, when they are one (a team member).
  inspector?: string | null;
  csrf: string;
  // Whether the person's department keeps the directory of targets (directories.target_sources).
  importsTargets: boolean;
}

export class SignInFailed extends Error {
  constructor(
    readonly field: 'username' | 'password' | '',
    readonly code: string,
    readonly until?: string,
  ) {
    super(code);
  }
}

const SESSION = '/console/session';

export const useSession = defineStore('session', () => {
  const me = ref<Me | null>(null);
  // True when a call found the session gone: the page asks to sign in again and keeps what was typed.
  const expired = ref(false);
  const roles = computed(() => new Set(me.value?.roles ?? []));

  async function load(): Promise<Me | null> {
    const answer = await fetch(SESSION, { credentials: 'same-origin' });
    me.value = answer.ok ? ((await answer.json()) as Me) : null;
    return me.value;
  }

  async function signIn(username: string, password: string): Promise<Me> {
    const answer = await fetch(SESSION, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new SignInFailed(body.field ?? '', body.code ?? 'failed', body.until);
    me.value = body as Me;
    expired.value = false;
    return me.value;
  }

  async function signOut(): Promise<void> {
    await fetch(SESSION, {
      method: 'DELETE',
      credentials: 'same-origin',
      headers: { 'x-suiji-csrf': me.value?.csrf ?? '' },
    });
    me.value = null;
  }

  function has(role: string): boolean {
    return roles.value.has(role);
  }

  /** Whether the person oversees every department's work (reads what is each department's own), as the services
   * decide it: an administrator, an auditor, the joint meeting. Others read their own department's. */
  function oversees(): boolean {
    return has('admin') || has('audit.reader') || has('planning.joint-meeting');
  }

  return { me, expired, load, signIn, signOut, has, oversees };
});

/** How the console signs people in: local accounts, the identity provider (its button's label), or both. */
export interface SignInMethods {
  local: boolean;
  oidc: { label: string } | null;
}

let methods: Promise<SignInMethods> | null = null;

/** The console's sign-in methods, asked once per page load. */
export function signInMethods(): Promise<SignInMethods> {
  methods ??= fetch('/console/sign-in-methods', { credentials: 'same-origin' }).then((answer) => {
    if (!answer.ok) throw new Error(`sign-in methods: ${answer.status}`);
    return answer.json() as Promise<SignInMethods>;
  });
  return methods;
}
