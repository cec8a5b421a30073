// enterpriseUscc(i) of src/demo/syntheticData.ts in plain JS, for the bench's Node helpers
// (lib/preflight.mjs, lib/shape.mjs); lib/gateway.lua has the same in Lua. bench/check-keys.sh
// compares the Lua version with the TypeScript one.
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export function enterpriseUscc(i) {
  const body = String(i).padStart(8, '0');
  let sum = 0;
  for (let k = 0; k < 8; k++) sum += (body.charCodeAt(k) - 48) * ORG_WEIGHTS[k];
  const c = 11 - (sum % 11);
  const first17 = '91441300' + body + (c === 10 ? 'X' : c === 11 ? '0' : String(c));
  sum = 0;
  for (let k = 0; k < 17; k++) sum += ALPHABET.indexOf(first17[k]) * USCC_WEIGHTS[k];
  return first17 + ALPHABET[(31 - (sum % 31)) % 31];
}
