// The bench's grants, as the source department HZ-SCJGJ issues them to the consuming agency:
// request bodies for bench/run-all.sh to send with curl, and checks of the replies.
//   node grants.mjs list-body AGENCY PURPOSE          body of `grants(agency, purposeCode)`
//   node grants.mjs missing REPLY_FILE                 dataset codes without a grant covering the
//                                                      bench's fields (one a line); lists the ones held
//                                                      on stderr; exit 1 when the reply has errors
//   node grants.mjs issue-body AGENCY PURPOSE CODE     body of `issueGrant` for one dataset
//   node grants.mjs issued REPLY_FILE                  prints "id code fields"; exit 1 on errors
import { readFileSync } from 'node:fs';

export const PURPOSE_TEXT = '基准测试：企业登记信息核验';
/** Fields the bench reads of each dataset (Q1 and Q2 together, plus the key and join fields). */
export const BENCH_FIELDS = {
  '3.44.13.002/00000001': ['uscc', 'name', 'legalRepresentative', 'legalRepIdNumber', 'registeredCapital', 'status', 'establishedOn', 'district'],
  '3.44.13.002/00000002': ['licenseNo', 'uscc', 'licenseType', 'issuingAuthority', 'validUntil', 'status'],
};

const [cmd, ...args] = process.argv.slice(2);
const str = JSON.stringify; // a JSON string is a valid GraphQL string literal
const body = (query) => process.stdout.write(str({ query }));
const reply = (file) => {
  const text = readFileSync(file, 'utf8');
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (!json || json.errors || !json.data) {
    console.error(`GraphQL reply with errors: ${text.slice(0, 1500)}`);
    process.exit(1);
  }
  return json.data;
};

switch (cmd) {
  case 'list-body': {
    const [agency, purpose] = args;
    body(`{ grants(agency: ${str(agency)}, purposeCode: ${str(purpose)}) { id agency datasetCode fields purposeCode status validUntil } }`);
    break;
  }
  case 'missing': {
    const grants = reply(args[0]).grants ?? [];
    for (const g of grants) console.error(`# grant held: id ${g.id} ${g.agency} ${g.datasetCode} purpose ${g.purposeCode} ${g.status} fields ${g.fields.join(',')}`);
    for (const [code, fields] of Object.entries(BENCH_FIELDS)) {
      const covered = grants.some((g) => g.datasetCode === code && g.status === 'ACTIVE' && fields.every((f) => g.fields.includes(f)));
      if (!covered) console.log(code);
    }
    break;
  }
  case 'issue-body': {
    const [agency, purpose, code] = args;
    const fields = BENCH_FIELDS[code];
    if (!fields) {
      console.error(`no bench fields for dataset ${code}`);
      process.exit(2);
    }
    body(
      `mutation { issueGrant(input: { agency: ${str(agency)}, datasetCode: ${str(code)}, fields: ${str(fields)}, ` +
        `purposeCode: ${str(purpose)}, purposeText: ${str(PURPOSE_TEXT)} }) { id datasetCode fields } }`,
    );
    break;
  }
  case 'issued': {
    const g = reply(args[0]).issueGrant;
    console.log(`${g.id} ${g.datasetCode} ${g.fields.join(',')}`);
    break;
  }
  default:
    console.error('usage: node grants.mjs list-body|missing|issue-body|issued …');
    process.exit(2);
}
