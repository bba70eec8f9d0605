/**
 * The REST routes, read from the `google.api.http` annotations of the contracts: no second,
 * hand-written table. Path templates support literal segments and `{field}` variables.
 */
import { getOption, hasOption, type DescMethod } from '@bufbuild/protobuf';
import { http } from '../../../gen/ts/google/api/annotations_pb.js';
import type { HttpRule } from '../../../gen/ts/google/api/http_pb.js';
import type { ServiceBinding } from '../pipeline/handlers.js';

type Segment = { literal: string } | { variable: string };

export interface Route {
  verb: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Whether HEAD is served as this GET without the body (not when it would run a capture for nothing). */
  head: boolean;
  template: string;
  segments: Segment[];
  binding: ServiceBinding;
  method: DescMethod;
  /** "" (no body), "*" (the whole request), or a request field name. */
  body: string;
  /** "" (the whole response) or the response field that becomes the body. */
  responseBody: string;
}

export interface RouteMatch {
  route: Route;
  pathParams: Map<string, string>;
  /**
   * Path variables whose text does not percent-decode (`%ZZ`, or escapes that are not UTF-8), as
   * sent: the path is this route's, and the variable the client's error to name.
   */
  undecodable: Map<string, string>;
}

function parseTemplate(template: string): Segment[] {
  return template
    .split('/')
    .slice(1)
    .map((part) => {
      const m = /^\{([a-z_][a-z0-9_]*)\}$/.exec(part);
      return m ? { variable: m[1]! } : { literal: part };
    });
}

function verbOf(rule: HttpRule): [Route['verb'], string] | undefined {
  switch (rule.pattern.case) {
    case 'get':
      return ['GET', rule.pattern.value];
    case 'post':
      return ['POST', rule.pattern.value];
    case 'put':
      return ['PUT', rule.pattern.value];
    case 'patch':
      return ['PATCH', rule.pattern.value];
    case 'delete':
      return ['DELETE', rule.pattern.value];
    default:
      return undefined;
  }
}

export class RestRoutes {
  readonly routes: Route[] = [];

  constructor(bindings: readonly ServiceBinding[]) {
    for (const binding of bindings) {
      for (const method of binding.service.methods) {
        if (method.methodKind !== 'unary' || !hasOption(method, http)) continue;
        const rule = getOption(method, http);
        for (const r of [rule, ...rule.additionalBindings]) {
          const verb = verbOf(r);
          if (!verb) continue;
          this.routes.push({
            verb: verb[0],
            head: verb[0] === 'GET' && !binding.noHead.has(method),
            template: verb[1],
            segments: parseTemplate(verb[1]),
            binding,
            method,
            body: r.body,
            responseBody: r.responseBody || rule.responseBody,
          });
        }
      }
    }
    // Literal segments win over variables, so /metrics/record is never read as /metrics/{name}.
    this.routes.sort((a, b) => specificity(b) - specificity(a));
  }

  /** The route for a path, or the verbs the path allows when the verb does not match. */
  match(verb: string, path: string): RouteMatch | { allowed: string[] } | undefined {
    const parts = path.split('/').slice(1);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const matched = matchSegments(route.segments, parts);
      if (!matched) continue;
      if (route.verb === verb || (verb === 'HEAD' && route.head)) return { route, ...matched };
      allowed.push(route.verb);
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

function specificity(route: Route): number {
  return route.segments.reduce((n, s, i) => n + ('literal' in s ? 2 ** (16 - i) : 0), 0);
}

function matchSegments(segments: Segment[], parts: string[]): Pick<RouteMatch, 'pathParams' | 'undecodable'> | undefined {
  if (segments.length !== parts.length) return undefined;
  const params = new Map<string, string>();
  const undecodable = new Map<string, string>();
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const part = parts[i]!;
    if ('literal' in s) {
      if (s.literal !== part) return undefined;
    } else {
      if (part === '') return undefined;
      try {
        params.set(s.variable, decodeURIComponent(part));
      } catch {
        undecodable.set(s.variable, part);
      }
    }
  }
  return { pathParams: params, undecodable };
}
