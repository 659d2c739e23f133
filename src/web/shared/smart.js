// What both consent pages (the dashboard's and the patients' app's) read of a SMART app's
// authorization request, as the server passed it on in the page's fragment (#/authorize?...).

const FIELDS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'aud', 'code_challenge', 'code_challenge_method', 'launch'];

/** The authorization request in `params`, as POST /v1/smart/authorize takes it. */
export function authorizationRequest(params) {
  const request = {};
  for (const name of FIELDS) if (params.has(name)) request[name] = params.get(name);
  return request;
}

/** What a scope lets an app read: whose (`patient`: the patient in context; `user`: whoever the
 * user may see) and which resource (`*` for all); null for a scope that reads nothing by itself
 * (`launch/patient`, `openid`, `offline_access`). */
export function scopeReads(scope) {
  const match = /^(patient|user)\/([A-Za-z]+|\*)\.(rs|r|s|read)$/.exec(scope);
  return match ? { whose: match[1], resource: match[2] } : null;
}
