import type { CatalogField, FieldType } from '../catalog/Catalog';

/** A catalog field for hand-built fixture datasets: unconditional, not open, not indexed. */
export function catalogField(name: string, type: FieldType, extra: Partial<CatalogField> = {}): CatalogField {
  return {
    name,
    label: name,
    type,
    required: false,
    isKey: false,
    shareClass: 'UNCONDITIONAL',
    openType: 'NOT_OPEN',
    grade: 'GENERAL_2',
    personal: false,
    indexed: false,
    subjectId: false,
    ...extra,
  };
}
