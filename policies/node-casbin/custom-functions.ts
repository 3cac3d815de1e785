// The custom matcher function of node-casbin's TestKeyMatchCustomModel (registered there with addFunction):
// true for two fixed (key, pattern) pairs, false otherwise.
export function keyMatchCustom(key: unknown, pattern: unknown): boolean {
  const name1 = String(key ?? '');
  const name2 = String(pattern ?? '');
  if (name1 === '/alice_data2/myid/using/res_id' && name2 === '/alice_data/:resource') return true;
  return name1 === '/alice_data2/myid/using/res_id' && name2 === '/alice_data2/:id/using/:resId';
}
