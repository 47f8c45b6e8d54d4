// A department's identity provider for the sign-in test: the npm package oidc-provider (OpenID Certified),
// configured as a province's single sign-on would be for suiji — the console signs people in by the
// authorization code flow with PKCE; the services get their own tokens by client credentials; every access token
// is a JWT (ES256) for suiji's resource, carrying the person's department and roles in `dept` and `roles`. Its
// own development login and consent pages stand in for the province's. Prints `ready` when it listens.
//
//   node e2e/browser/oidc_provider.mjs PORT CONSOLE_REDIRECT_URL CONSOLE_SECRET SERVICES_SECRET
import Provider, { errors } from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

const [port, redirect, consoleSecret, servicesSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
export const RESOURCE = 'http://suiji.test/api';

// The people the provider knows, with the claims suiji reads.
const people = {
  'wang.wu': { name: '王五', dept: '610400-STHJ', roles: ['catalog.editor', 'inspection.coordinator'] },
  nobody: { name: '无部门', dept: '', roles: [] },
};

async function key(alg) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `${alg.toLowerCase()}-test` };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'suiji-console',
      client_secret: consoleSecret,
      redirect_uris: [redirect],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'suiji-services',
      client_secret: servicesSecret,
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials'],
    },
  ],
  jwks: { keys: [await key('RS256'), await key('ES256')] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name'] },
  findAccount: async (ctx, sub) =>
    people[sub] && { accountId: sub, claims: async () => ({ sub, name: people[sub].name }) },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        if (indicator !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: 'openid profile',
          audience: RESOURCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 3600,
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  extraTokenClaims: async (ctx, token) => {
    if (token.kind === 'ClientCredentials') {
      return token.clientId === 'suiji-services' ? { dept: 'system', roles: ['admin'] } : undefined;
    }
    const person = people[token.accountId];
    return person && { dept: person.dept, roles: person.roles };
  },
});
provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
