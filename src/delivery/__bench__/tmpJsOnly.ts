import { Readable } from 'node:stream';
import { readCsvUpload } from '../readCsvUpload';
import { buildRowValidator, encodeCopyRow } from '../validateRow';
// reuse generator by importing bench file would run main; duplicate minimal
import { idNumberCheckDigit, USCC_ALPHABET, usccCheckChar } from '../../validation/checksums';
const DISTRICTS = ['惠城区', '惠阳区', '博罗县', '惠东县', '龙门县', '大亚湾开发区', '仲恺高新区'];
const STATUSES = ['存续', '在业', '迁出', '吊销', '注销'];
const SURNAMES = '陈李张黄林叶刘何吴钟';
const DAY_MS = 86_400_000;

/** A deterministic valid credit code per i (org-code part = i in base 31). */
export function uscc(i: number): string {
  let org = '';
  let n = i;
  for (let k = 0; k < 9; k++) {
    org = USCC_ALPHABET[n % 31] + org;
    n = Math.floor(n / 31);
  }
  const first17 = `91441302${org}`;
  return first17 + usccCheckChar(first17);
}

const isoDay = (base: number, i: number): string => new Date(base + i * DAY_MS).toISOString().slice(0, 10);
// Precomputed so that generating the CSV costs little next to delivering it.
const BIRTH_DATES = Array.from({ length: 18_000 }, (_, i) => isoDay(Date.UTC(1950, 0, 1), i).replace(/-/g, ''));
const ESTABLISHED = Array.from({ length: 12_000 }, (_, i) => isoDay(Date.UTC(1990, 0, 1), i));
const SEQ = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

function idNumber(i: number): string {
  const first17 = `441302${BIRTH_DATES[i % 18_000]}${SEQ[i % 1000]}`;
  return first17 + idNumberCheckDigit(first17);
}

function* csv(rows: number): Generator<Buffer> {
  let text = 'uscc,name,legalRepresentative,legalRepIdNumber,registeredCapital,establishedOn,district,status,address,phone\n';
  for (let i = 0; i < rows; i++) {
    const district = DISTRICTS[i % DISTRICTS.length];
    // Every 50th name carries a comma, so the parser also meets quoted values.
    const name = i % 50 === 0 ? `"惠州市${district}第${i}号商贸有限公司, 分公司"` : `惠州市第${i}号科技有限公司`;
    text +=
      `${uscc(i)},${name},${SURNAMES[i % 10]}某${i % 97},${idNumber(i)},${(i * 7919) % 100_000_000}.${SEQ[i % 100].slice(1)},` +
      `${ESTABLISHED[i % 12_000]},${district},${STATUSES[i % 5]},惠州市${district}某某路${i % 999}号,13${SEQ[i % 1000]}${SEQ[(i >> 10) % 1000]}${i % 1000 < 100 ? '0' : '1'}\n`;
    if (text.length >= 32_768) {
      yield Buffer.from(text);
      text = '';
    }
  }
  yield Buffer.from(text);
}

const mode = process.argv[2];
const N = Number(process.argv[3] ?? 200000);
async function main() {
  const f = (name: string, type: any, extra: any = {}) => ({ name, label: name, type, required: false, isKey: false, shareClass: 'UNCONDITIONAL', openType: 'NOT_OPEN', grade: 'GENERAL_2', personal: false, indexed: false, subjectId: false, ...extra });
  const dataset: any = { code: 'x', typeName: 'Enterprise', fields: [f('uscc', 'STRING', { isKey: true, check: 'USCC' }), f('name', 'STRING'), f('legalRepresentative', 'STRING'), f('legalRepIdNumber', 'STRING', { check: 'ID_NUMBER' }), f('registeredCapital', 'DECIMAL'), f('establishedOn', 'DATE'), f('district', 'STRING'), f('status', 'STRING'), f('address', 'STRING'), f('phone', 'STRING')], references: [] };
  let t = Date.now();
  if (mode === 'gen') { let n = 0; for (const b of csv(N)) n += b.length; const cu = process.cpuUsage(); console.log('gen', Date.now() - t, 'cpu', Math.round((cu.user+cu.system)/1000)); return; }
  let chars = 0;
  const v = buildRowValidator(dataset);
  const r = await readCsvUpload(Readable.from(csv(N)), v, { accept(values, row, line) { if (mode !== 'noenc') chars += encodeCopyRow(`${row}\t${line}`, values).length; }, reject(p) { console.log(p); }, hasReady: false, relieve: async () => {} }, 1e12);
  const cu = process.cpuUsage(); console.log(mode, r.rowCount, Date.now() - t, 'ms', chars, 'cpu', Math.round((cu.user+cu.system)/1000));
}
main();
