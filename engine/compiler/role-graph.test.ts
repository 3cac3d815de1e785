// Role links must answer exactly as node-casbin's DefaultRoleManager(10) that loaded the same links: with and
// without domains, with cycles and chains longer than the 10-link limit, and with role-name and domain patterns.
import { describe, expect, it } from 'vitest';
import { casbin } from '../casbin-runtime.js';
import { seededRandom } from '../../test/support/random-policy.js';
import { builtinFunctions } from './builtin-functions.js';
import { RoleGraph } from './role-graph.js';

const seed = Number(process.env.ROLES_SEED ?? Math.floor(Math.random() * 2 ** 31));
type Link = readonly [string, string, string | undefined];

async function casbinRoles(links: readonly Link[], matching?: string, domainMatching?: string) {
  const rm = new casbin.DefaultRoleManager(10);
  const util = casbin.Util as unknown as Record<string, (...a: unknown[]) => boolean>;
  if (matching) await rm.addMatchingFunc(util[`${matching}Func`] as never);
  if (domainMatching) await rm.addDomainMatchingFunc(util[`${domainMatching}Func`] as never);
  for (const [a, b, d] of links) await (d === undefined ? rm.addLink(a, b) : rm.addLink(a, b, d));
  return rm;
}

function ourRoles(links: readonly Link[], matching?: string, domainMatching?: string): RoleGraph {
  const fn = (name?: string) => (name ? (a: string, b: string) => builtinFunctions.get(name)?.(a, b) as boolean : undefined);
  const graph = new RoleGraph('g', fn(matching), fn(domainMatching));
  for (const [a, b, d] of links) graph.addLink(a, b, d);
  return graph;
}

describe('role links', () => {
  for (const variant of [
    { name: 'plain names, with domains', matching: undefined, domainMatching: undefined, names: ['u1', 'u2', 'r1', 'r2', 'r3', 'g1', 'g2'] },
    { name: 'role names as keyMatch2 patterns', matching: 'keyMatch2', domainMatching: undefined, names: ['/book/1', '/book/:id', '/pen/1', '/pen/:id', 'alice', 'book_group', '/*'] },
    { name: 'domains as keyMatch2 patterns', matching: undefined, domainMatching: 'keyMatch2', names: ['alice', 'bob', 'admin', 'reader', 'writer'] },
    { name: 'both patterns', matching: 'keyMatch2', domainMatching: 'keyMatch2', names: ['/book/1', '/book/:id', 'alice', 'admin'] },
  ]) {
    it(`answer hasLink as casbin's role manager does: ${variant.name} (seed ${seed}, ROLES_SEED replays)`, async () => {
      const random = seededRandom(seed ^ variant.name.length);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
      const domains = variant.domainMatching ? ['domain1', 'domain2', '*', 'domain:x'] : ['d1', 'd2', undefined];
      const worlds = variant.matching || variant.domainMatching ? 3 : 8;
      for (let world = 0; world < worlds; world++) {
        let links: Link[] = [];
        const chain = Array.from({ length: 13 }, (_, i) => `c${i}`);
        chain.slice(0, -1).forEach((c, i) => links.push([c, chain[i + 1] as string, pick(domains)]));
        for (let i = 0; i < 25; i++) links.push([pick(variant.names), pick(variant.names), pick(domains)]);
        links = links.filter((link, i) => links.findIndex((l) => l.join('|') === link.join('|')) === i);
        const graph = ourRoles(links, variant.matching, variant.domainMatching);
        for (let round = 0; round < 3; round++) {
          const reference = await casbinRoles(links, variant.matching, variant.domainMatching);
          const names = [...variant.names, ...chain, 'nobody'];
          for (const a of names) {
            for (const b of names) {
              for (const d of domains) {
                const expected = d === undefined ? reference.syncedHasLink(a, b) : reference.syncedHasLink(a, b, d);
                expect(graph.hasLink(a, b, d), `${a} → ${b} in ${d} (seed ${seed})`).toBe(expected);
                if (!variant.matching && !variant.domainMatching) expect(graph.reach(a, d).includes(b)).toBe(expected);
              }
            }
          }
          // Incremental change; the reference is rebuilt from the remaining links, as after a reload.
          const removed = pick(links);
          links = links.filter((l) => l !== removed);
          graph.deleteLink(removed[0], removed[1], removed[2]);
          const added: Link = [pick(names), pick(variant.names), pick(domains)];
          if (!links.some((l) => l.join('|') === added.join('|'))) {
            links.push(added);
            graph.addLink(added[0], added[1], added[2]);
          }
        }
      }
    });
  }

  it('stops at 10 links, as casbin does, and gives the shortest path for explanations', () => {
    const graph = ourRoles(Array.from({ length: 12 }, (_, i) => [`n${i}`, `n${i + 1}`, 'd'] as Link));
    expect(graph.hasLink('n0', 'n10', 'd')).toBe(true);
    expect(graph.hasLink('n0', 'n11', 'd')).toBe(false);
    expect(graph.pathTo('n0', 'n3', 'd')).toEqual(['n0', 'n1', 'n2', 'n3']);
    expect(graph.pathTo('n0', 'n11', 'd')).toEqual([]);
    expect(graph.pathTo('x', 'x', 'd')).toEqual(['x']);
  });
});
