import type { RouteDocumentation } from '../platform/http/openapi-document.js';
import type { AnyRoute } from '../platform/http/route.js';

const writes = new Set(['post', 'put', 'patch', 'delete']);

/**
 * What Identity's routes read and answer beyond their specs, for the OpenAPI document: every write may answer
 * `X-Policy-Revision` (when it changed policy) and 409; a record's answer carries its `ETag`; an update or
 * delete of a record takes `If-Match` and may answer 412.
 */
export function describeIdentityRoute(route: AnyRoute): RouteDocumentation {
  const write = writes.has(route.method);
  const onRecord = route.path.includes('{');
  const answersRecord = route.method !== 'delete' && Object.values(route.responses).some((response) => response.schema !== undefined);
  return {
    requestHeaders: write && onRecord && route.method !== 'post' ? ['If-Match'] : [],
    responseHeaders: [...(answersRecord ? (['ETag'] as const) : []), ...(write ? (['X-Policy-Revision'] as const) : [])],
    refusals: [...(write ? [409] : []), ...(write && onRecord && route.method !== 'post' ? [412] : [])],
  };
}
