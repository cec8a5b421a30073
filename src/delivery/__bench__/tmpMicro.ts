import { buildRowValidator, encodeCopyRow } from '../validateRow';
import { idNumberCheckDigit, USCC_ALPHABET, usccCheckChar } from '../../validation/checksums';
const DAY_MS = 86_400_000;
function uscc(i: number): string { let org = ''; let n = i; for (let k = 0; k < 9; k++) { org = USCC_ALPHABET[n % 31] + org; n = Math.floor(n / 31); } const f = `91441302${org}`; return f + usccCheckChar(f); }
function idNumber(i: number): string { const birth = new Date(Date.UTC(1950, 0, 1) + (i % 18_000) * DAY_MS).toISOString().slice(0, 10).replace(/-/g, ''); const f = `441302${birth}${String(i % 1000).padStart(3, '0')}`; return f + idNumberCheckDigit(f); }
const f = (name: string, type: any, extra: any = {}) => ({ name, label: name, type, required: false, isKey: false, shareClass: 'UNCONDITIONAL', openType: 'NOT_OPEN', grade: 'GENERAL_2', personal: false, indexed: false, subjectId: false, ...extra });
const dataset: any = { code: 'x', typeName: 'Enterprise', fields: [f('uscc', 'STRING', { isKey: true, check: 'USCC' }), f('name', 'STRING'), f('legalRepresentative', 'STRING'), f('legalRepIdNumber', 'STRING', { check: 'ID_NUMBER' }), f('registeredCapital', 'DECIMAL'), f('establishedOn', 'DATE'), f('district', 'STRING'), f('status', 'STRING'), f('address', 'STRING'), f('phone', 'STRING')], references: [] };
const N = 200000;
const rows: string[][] = [];
for (let i = 0; i < N; i++) rows.push([uscc(i), `惠州市第${i}号科技有限公司`, `陈某${i % 97}`, idNumber(i), `${(i * 7919) % 100_000_000}.12`, '2001-02-03', '惠城区', '存续', `惠州市惠城区某某路${i % 999}号`, `13${String(i * 7 % 1e9).padStart(9, '0')}`]);
const v = buildRowValidator(dataset);
const layout = v.bindCsvHeader(dataset.fields.map((x: any) => x.name));
for (let rep = 0; rep < 3; rep++) {
  let t = Date.now();
  const out: (string | null)[][] = [];
  for (let i = 0; i < N; i++) { const r = layout.validateCells(rows[i], i + 1); if (r.ok) out.push(r.values); }
  console.log('validate', Date.now() - t);
  t = Date.now();
  let text = ''; let total = 0;
  for (let i = 0; i < N; i++) { text += encodeCopyRow(`${i}\t${i}`, out[i]); if (text.length > 1 << 20) { total += Buffer.from(text).length; text = ''; } }
  console.log('encode', Date.now() - t, total);
}
