// A real OpenID Connect provider (panva/oidc-provider) for the portal's
// OIDC stack test: discovery, authorization code + PKCE, ID tokens with
// nonce, JWT access tokens carrying yizhan's claims, rotating refresh
// tokens, RP-initiated logout.
//
// Configuration comes from the environment (the Rust test sets it):
//   PORT                  listen port on 127.0.0.1 (0 = any free port)
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, POST_LOGOUT_REDIRECT_URI
//   AUDIENCE              `aud` of access tokens (yizhan's auth.audience)
//   ACCESS_TOKEN_TTL      access-token lifetime in seconds (short, so the
//                         test sees a refresh)
//
// Once listening it prints one line `listening <issuer>` on stdout.
//
// The login page is deliberately minimal: GET /interaction/:uid answers a
// form, POST /interaction/:uid with `login=<user>` signs that test user in
// and grants the client what it asked for (no separate consent screen).
//
// One test hook, for the negative test: POST /test/tamper-next-id-token
// makes the next token response carry an ID token whose payload was
// changed after signing (so its signature no longer matches).

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return value;
};

const port = Number(env('PORT', '0'));
const clientId = env('CLIENT_ID');
const clientSecret = env('CLIENT_SECRET');
const redirectUri = env('REDIRECT_URI');
const postLogoutRedirectUri = env('POST_LOGOUT_REDIRECT_URI');
const audience = env('AUDIENCE', 'yizhan');
const accessTokenTtl = Number(env('ACCESS_TOKEN_TTL', '5'));
// The resource server the access tokens are for; its `aud` is `audience`.
const resource = 'urn:yizhan:api';
const resourceScope = 'yizhan:api';

// The test users and the claims yizhan reads (libs/auth Claims).
const users = {
  clerk: { name: '周受理', roles: ['window_clerk'] },
  applicant: {
    name: '林申请',
    roles: ['applicant'],
    uscc: '91350100M000100Y43',
  },
};
const yizhanClaims = (id) => {
  const user = users[id];
  if (!user) return {};
  const claims = { name: user.name, roles: user.roles };
  if (user.uscc) claims.uscc = user.uscc;
  if (user.dept) claims.dept = user.dept;
  if (user.enterprises) claims.enterprises = user.enterprises;
  return claims;
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

let tamperNextIdToken = false;

// Bound first so the issuer can name the real port.
const server = createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [postLogoutRedirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    profile: ['name'],
    yizhan: ['roles', 'uscc', 'dept', 'enterprises'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'yizhan'],
  async findAccount(_ctx, id) {
    if (!users[id]) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...yizhanClaims(id) };
      },
    };
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // A plain confirmation form the test can post (its `xsrf` field).
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html><body>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">退出</button></body></html>`;
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== resource) throw new Provider.errors.InvalidTarget();
        return {
          scope: resourceScope,
          audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL: accessTokenTtl,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // Keycloak hands out refresh tokens without `offline_access`; so does this.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  // yizhan's services read roles and enterprise claims from the access token.
  async extraTokenClaims(_ctx, token) {
    if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
    return yizhanClaims(token.accountId);
  },
  pkce: { required: () => true },
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 3600,
    Grant: 3600,
    Interaction: 600,
    Session: 3600,
  },
});

const readForm = (req) =>
  new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });

// Changes the payload of a compact JWS without re-signing it.
const tamper = (jwt) => {
  const [header, payload, signature] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  claims.sub = `${claims.sub}-forged`;
  return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
};

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && tamperNextIdToken && ctx.body?.id_token) {
    tamperNextIdToken = false;
    ctx.body = { ...ctx.body, id_token: tamper(ctx.body.id_token) };
  }
});

const handle = provider.callback();

server.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/test/tamper-next-id-token' && req.method === 'POST') {
      tamperNextIdToken = true;
      res.writeHead(204).end();
      return;
    }
    const interaction = url.pathname.match(/^\/interaction\/([^/]+)$/);
    if (interaction && req.method === 'GET') {
      const details = await provider.interactionDetails(req, res);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!DOCTYPE html><html><body><form method="post" action="/interaction/${details.uid}"><input name="login"><button>登录</button></form></body></html>`);
      return;
    }
    if (interaction && req.method === 'POST') {
      const details = await provider.interactionDetails(req, res);
      const form = await readForm(req);
      const accountId = form.get('login');
      if (!users[accountId]) {
        res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('unknown user');
        return;
      }
      const { params } = details;
      const grant = new provider.Grant({ accountId, clientId: params.client_id });
      grant.addOIDCScope(String(params.scope ?? 'openid'));
      grant.addResourceScope(resource, resourceScope);
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    handle(req, res);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) res.writeHead(500).end(String(error));
  }
});

console.log(`listening ${issuer}`);
