/** Field on every dataset type: the record is under verification (R19). Shared by the schema builder and the query compiler. */
export const VERIFICATION_FLAG = 'underVerification';
