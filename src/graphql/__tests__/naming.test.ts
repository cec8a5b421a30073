import {
  columnName, connectionTypeName, edgeTypeName, filterTypeName, listFieldName, lookupFieldName, orderByTypeName,
  pluralize, snakeCase, tableName,
} from '../naming';

describe('snakeCase', () => {
  it.each([
    ['uscc', 'uscc'],
    ['legalRepIdNumber', 'legal_rep_id_number'],
    ['pm25', 'pm25'],
    ['AirQuality', 'air_quality'],
    ['EnterpriseLicense', 'enterprise_license'],
    ['HTTPServer', 'http_server'],
    ['employerUSCC', 'employer_uscc'],
    ['o3', 'o3'],
  ])('%s → %s', (input, expected) => {
    expect(snakeCase(input)).toBe(expected);
  });
});

describe('pluralize', () => {
  it.each([
    ['enterprise', 'enterprises'],
    ['airQuality', 'airQualities'],
    ['day', 'days'],
    ['socialInsurance', 'socialInsurances'],
    ['address', 'addresses'],
    ['box', 'boxes'],
    ['batch', 'batches'],
    ['wish', 'wishes'],
  ])('%s → %s', (input, expected) => {
    expect(pluralize(input)).toBe(expected);
  });
});

describe('dataset names', () => {
  it.each([
    ['Enterprise', 'enterprise', 'enterprises', 'enterprise'],
    ['EnterpriseLicense', 'enterpriseLicense', 'enterpriseLicenses', 'enterprise_license'],
    ['AirQuality', 'airQuality', 'airQualities', 'air_quality'],
    ['HouseholdRegistration', 'householdRegistration', 'householdRegistrations', 'household_registration'],
    ['SocialInsurance', 'socialInsurance', 'socialInsurances', 'social_insurance'],
  ])('%s: lookup %s, list %s, table %s', (typeName, lookup, list, table) => {
    expect(lookupFieldName({ typeName })).toBe(lookup);
    expect(listFieldName({ typeName })).toBe(list);
    expect(tableName({ typeName })).toBe(table);
  });

  it('names the generated GraphQL types after the dataset type', () => {
    const ds = { typeName: 'AirQuality' };
    expect([connectionTypeName(ds), edgeTypeName(ds), filterTypeName(ds), orderByTypeName(ds)]).toEqual([
      'AirQualityConnection', 'AirQualityEdge', 'AirQualityFilter', 'AirQualityOrderBy',
    ]);
  });

  it('names columns in snake_case', () => {
    expect(columnName('legalRepIdNumber')).toBe('legal_rep_id_number');
    expect(columnName('observedAt')).toBe('observed_at');
  });
});
