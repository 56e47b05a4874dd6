import { hash } from 'node:crypto';
import type { LoadedVersion, ServedRoute } from './loaded-models.service';

/** The header that makes the canary choice sticky: one routing key, one version. */
export const ROUTING_KEY_HEADER = 'x-routing-key';

/**
 * The version that answers a request: the canary for its weight's share of requests, else the
 * alias's own. With a routing key the draw is a hash of model and key, the same on every replica
 * and for as long as the weight holds, so one user keeps seeing one version; raising the weight
 * only moves users onto the canary, never back.
 */
export function chooseVersion(
  route: ServedRoute,
  routingKey: string | string[] | undefined,
): LoadedVersion {
  const { canary } = route;
  if (!canary) return route.primary;
  const draw =
    typeof routingKey === 'string' && routingKey !== ''
      ? stickyDraw(route.primary.model, routingKey)
      : Math.random();
  return draw < canary.weight ? canary.version : route.primary;
}

/** Whether this request is also sent to the shadow. */
export function mirrors(route: ServedRoute): boolean {
  return route.shadow !== null && Math.random() < route.shadow.fraction;
}

/** A uniform draw in [0, 1) fixed by model and key: the first 32 bits of their SHA-1. */
export function stickyDraw(model: string, routingKey: string): number {
  return hash('sha1', `${model}\n${routingKey}`, 'buffer').readUInt32BE(0) / 2 ** 32;
}
