import type { MaskRule } from '../../catalog/Catalog';
import { MASK_RULES } from '../../catalog/Catalog';
import { maskValue } from '../mask';

type Case = [rule: MaskRule, input: string, expected: string];

describe('maskValue: examples of DOMAIN.md §3 (Hutool DesensitizedUtil)', () => {
  it.each<Case>([
    ['NAME', '段正淳', '段**'],
    ['ID_NUMBER', '51343620000320711X', '5***************1X'],
    ['MOBILE', '18049531999', '180****1999'],
    ['LANDLINE', '09157518479', '0915*****79'],
    ['BANK_CARD', '11011111222233333256', '1101 **** **** **** 3256'],
    ['ADDRESS', '北京市海淀区马连洼街道289号', '北京市海淀区马********'],
    ['EMAIL', 'dxx@126.com', 'd**@126.com'],
    ['PLATE', '苏D40000', '苏D4***0'],
    ['PASSWORD', '1234567890', '******'],
    ['IPV4', '192.0.2.1', '192.*.*.*'],
  ])('%s %s → %s', (rule, input, expected) => {
    expect(maskValue(rule, input)).toBe(expected);
  });
});

describe('maskValue by rule', () => {
  it.each<Case>([
    // NAME: first character; 2-character names keep 1; 复姓 of 3+ characters keep 2
    ['NAME', '张三', '张*'],
    ['NAME', '王', '*'],
    ['NAME', '欧阳修', '欧阳*'],
    ['NAME', '司马相如', '司马**'],
    ['NAME', '诸葛亮', '诸葛*'],
    ['NAME', '上官婉儿', '上官**'],
    ['NAME', '欧阳', '欧*'],
    ['NAME', '阿依古丽·买买提', '阿*******'],
    ['NAME', '𠀾小明', '𠀾**'], // supplementary-plane character counts as one
    // ID_NUMBER: first 1, last 2
    ['ID_NUMBER', '441302199001011236', '4***************36'],
    ['ID_NUMBER', '441302900101123', '4************23'], // 15-digit old format
    ['ID_NUMBER', '123', '***'], // nothing left to hide → all masked
    ['ID_NUMBER', '1234', '****'], // 1 of 4 hidden is less than a third
    // MOBILE: first 3, last 4
    ['MOBILE', '13800138000', '138****8000'],
    ['MOBILE', '1380013', '*******'],
    // LANDLINE: first 4, last 2
    ['LANDLINE', '0752-2345678', '0752******78'],
    ['LANDLINE', '23456789', '********'], // only 2 of 8 would be hidden
    // BANK_CARD: first 4 + last (len % 4 or 4), groups of 4, blanks removed
    ['BANK_CARD', '6222020000000000125', '6222 **** **** **** 125'],
    ['BANK_CARD', '6222 0200 0000 0000 07', '6222 **** **** **** 07'],
    ['BANK_CARD', '4111111111111111', '4111 **** **** 1111'],
    ['BANK_CARD', '100000000008', '1000 **** 0008'],
    ['BANK_CARD', '123456789', '1234 **** 9'],
    ['BANK_CARD', '12345678', '********'],
    // ADDRESS: last 8 characters
    ['ADDRESS', '广东省惠州市惠城区江北文明一路88号', '广东省惠州市惠城区江********'],
    ['ADDRESS', '惠州市惠城区下埔路', '惠********'],
    ['ADDRESS', '惠城区下埔路', '******'],
    // EMAIL: first character of the local part
    ['EMAIL', 'duandazhi@126.com', 'd********@126.com'],
    ['EMAIL', 'a@qq.com', '*@qq.com'],
    ['EMAIL', '张三@例子.中国', '张*@例子.中国'],
    ['EMAIL', 'not-an-email', '************'],
    ['EMAIL', '@qq.com', '*******'],
    ['EMAIL', 'user@', '*****'],
    // PLATE: first 3, last 1
    ['PLATE', '粤L12345', '粤L1***5'],
    ['PLATE', '粤LD12345', '粤LD****5'], // new-energy plate
    ['PLATE', '粤L123', '*****'],
    // PASSWORD: fixed length, whatever the input
    ['PASSWORD', 'a', '******'],
    ['PASSWORD', '', '******'],
    // IPV4: first octet
    ['IPV4', '10.20.30.40', '10.*.*.*'],
    ['IPV4', 'localhost', '*********'],
    ['IPV4', '10.20.30', '********'],
  ])('%s %s → %s', (rule, input, expected) => {
    expect(maskValue(rule, input)).toBe(expected);
  });
});

describe('maskValue safety', () => {
  const rulesButPassword = MASK_RULES.filter((r) => r !== 'PASSWORD');

  it.each(rulesButPassword)('%s keeps the empty string empty', (rule) => {
    expect(maskValue(rule, '')).toBe('');
  });

  const shortInputs = ['a', 'ab', '张', '张三', '12', '123', '1.2', 'x@y', '粤L'];

  it.each(MASK_RULES.flatMap((rule) => shortInputs.map((input) => [rule, input] as const)))(
    '%s never returns the short input %s in clear',
    (rule, input) => {
      expect(maskValue(rule, input)).not.toBe(input);
    },
  );

  it.each(MASK_RULES)('%s hides part of every longer value', (rule) => {
    for (const input of ['441302199001011236', '13800138000', '惠州市惠城区江北文明一路88号', 'someone@example.com', '192.168.1.1']) {
      const masked = maskValue(rule, input);
      const stars = Array.from(masked).filter((c) => c === '*').length;
      expect(stars * 3).toBeGreaterThanOrEqual(Math.min(Array.from(input).length, 6));
    }
  });
});
