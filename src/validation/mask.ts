/**
 * Field masking (脱敏 by 抑制, GB/T 37964-2019) with the defaults of Hutool's
 * `DesensitizedUtil` as listed in DOMAIN.md §3.
 *
 * Pure. Works on Unicode code points, so a name with a supplementary-plane character
 * (e.g. 𠀾) is masked per character, not per UTF-16 unit. Where Hutool gives up on a short or
 * malformed input and returns it unchanged, this module masks the whole value instead: a
 * masked field must never carry the clear value.
 */
import type { MaskRule } from '../catalog/Catalog';

const MASK = '*';
/** Hutool `password()` repeats `*` per character; a fixed length does not reveal the length. */
const PASSWORD_MASK = '******';
/** Hutool `address(address, 8)`: the last 8 characters are hidden. */
const ADDRESS_HIDDEN = 8;

/**
 * Two-character surnames (复姓) from 百家姓; a name starting with one keeps both characters.
 * Only applied to names of 3+ characters, so `欧阳` alone is still masked.
 */
export const COMPOUND_SURNAMES: ReadonlySet<string> = new Set([
  '欧阳', '司马', '诸葛', '上官', '东方', '独孤', '南宫', '万俟', '闻人', '夏侯', '皇甫', '尉迟',
  '公羊', '澹台', '公冶', '宗政', '濮阳', '淳于', '单于', '太叔', '申屠', '公孙', '仲孙', '轩辕',
  '令狐', '钟离', '宇文', '长孙', '慕容', '鲜于', '闾丘', '司徒', '司空', '亓官', '司寇', '子车',
  '颛孙', '端木', '巫马', '公西', '漆雕', '乐正', '壤驷', '公良', '拓跋', '夹谷', '宰父', '谷梁',
  '段干', '百里', '东郭', '南门', '呼延', '羊舌', '微生', '梁丘', '左丘', '东门', '西门', '第五',
  '赫连',
]);

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Masks `value` by `rule` (DOMAIN.md §3 table, Hutool `DesensitizedUtil` defaults):
 *
 * | rule | kept | example |
 * |---|---|---|
 * | NAME | first character (first two for a 复姓 name of 3+ characters) | 段** , 张* , 欧阳* |
 * | ID_NUMBER | first 1, last 2 | 5***************1X |
 * | MOBILE | first 3, last 4 | 180****1999 |
 * | LANDLINE | first 4, last 2 | 0915*****79 |
 * | BANK_CARD | first 4 + last (len % 4 or 4), blanks removed, groups of 4 | 1101 **** **** **** 3256 |
 * | ADDRESS | all but the last 8 characters | 北京市海淀区马******** |
 * | EMAIL | first character of the local part, and the domain | d********@126.com |
 * | PLATE | first 3, last 1 | 苏D4***0 |
 * | PASSWORD | nothing: always `******` | ****** |
 * | IPV4 | first octet | 192.*.*.* |
 *
 * The empty string stays empty (except PASSWORD). An input too short for a partial rule, one
 * where less than a third of it would be hidden, or a malformed e-mail / IPv4 address is masked
 * completely, one `*` per character.
 */
export function maskValue(rule: MaskRule, value: string): string {
  if (rule === 'PASSWORD') return PASSWORD_MASK;
  if (value === '') return '';
  const cps = Array.from(value);
  switch (rule) {
    case 'NAME': {
      const keep = cps.length >= 3 && COMPOUND_SURNAMES.has(cps[0] + cps[1]) ? 2 : 1;
      return keepEnds(cps, keep, 0);
    }
    case 'ID_NUMBER':
      return keepEnds(cps, 1, 2);
    case 'MOBILE':
      return keepEnds(cps, 3, 4);
    case 'LANDLINE':
      return keepEnds(cps, 4, 2);
    case 'BANK_CARD':
      return maskBankCard(cps.filter((c) => !/\s/.test(c)));
    case 'ADDRESS':
      return cps.length <= ADDRESS_HIDDEN
        ? maskAll(cps)
        : cps.slice(0, cps.length - ADDRESS_HIDDEN).join('') + MASK.repeat(ADDRESS_HIDDEN);
    case 'EMAIL':
      return maskEmail(cps);
    case 'PLATE':
      // Hutool masks positions 4..len-1 of 7-char (ordinary) and 8-char (new-energy) plates.
      return cps.length >= 6 ? keepEnds(cps, 3, 1) : maskAll(cps);
    case 'IPV4':
      return IPV4.test(value) ? value.slice(0, value.indexOf('.')) + '.*.*.*' : maskAll(cps);
    default: {
      const unknown: never = rule;
      throw new RangeError(`unknown mask rule ${String(unknown)}`);
    }
  }
}

function maskAll(cps: readonly string[]): string {
  return MASK.repeat(cps.length);
}

/**
 * Keeps `front` leading and `end` trailing code points and masks the rest; masks everything
 * when fewer than a third of the characters (or none) would be hidden.
 */
function keepEnds(cps: readonly string[], front: number, end: number): string {
  const hidden = cps.length - front - end;
  if (hidden < 1 || hidden * 3 < cps.length) return maskAll(cps);
  return cps.slice(0, front).join('') + MASK.repeat(hidden) + cps.slice(cps.length - end).join('');
}

/** Hutool `bankCard`: first 4, then the middle in groups of 4 `*`, then the tail. */
function maskBankCard(cps: readonly string[]): string {
  const len = cps.length;
  // Hutool returns cards shorter than 9 unchanged; here they are fully masked.
  if (len < 9) return maskAll(cps);
  const endLength = len % 4 === 0 ? 4 : len % 4;
  const midLength = len - 4 - endLength;
  let out = cps.slice(0, 4).join('');
  for (let i = 0; i < midLength; i++) {
    if (i % 4 === 0) out += ' ';
    out += MASK;
  }
  return out + ' ' + cps.slice(len - endLength).join('');
}

/** Hutool `email`: keep the first character of the local part and the whole domain. */
function maskEmail(cps: readonly string[]): string {
  const at = cps.indexOf('@');
  if (at < 1 || at === cps.length - 1) return maskAll(cps);
  // A one-character local part cannot keep its first character (Hutool would return it clear).
  const local = at === 1 ? MASK : cps[0] + MASK.repeat(at - 1);
  return local + cps.slice(at).join('');
}
