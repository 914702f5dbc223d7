/**
 * The closed set of per-entry and per-customer outcomes, and the one table that gives each its
 * meaning: SPEC's code and message. Use cases return keys of these tables; only this file spells
 * messages, and `http` turns a key into the wire's `{status, code, message}`.
 */
export const customerOutcomes = {
  FOUND: { code: 1000, message: 'Customer successfully retrieved' },
  NO_IDENTIFIER: { code: 1015, message: 'No identifier provided' },
  INVALID_IDENTIFIER: {
    code: 1015,
    message: 'No usable identifier provided: id must be a positive integer',
  },
  NOT_FOUND: { code: 1011, message: 'Cannot find customer for provided identifier' },
  IDENTIFIERS_DISAGREE: {
    code: 1011,
    message: 'The provided identifiers do not all belong to the same customer',
  },
} as const;
export type CustomerOutcome = keyof typeof customerOutcomes;
export type CustomerFailure = Exclude<CustomerOutcome, 'FOUND'>;

export const entryOutcomes = {
  SUCCESS: { code: 200, message: 'Success' },
  INTERNAL_ERROR: { code: 2001, message: 'Partner program event failed' },
  MALFORMED_ENTRY: { code: 2002, message: 'Required field is empty or null: the entry must be an object' },
  MISSING_PROGRAM_LIST: { code: 2002, message: 'Required field is empty or null: linkToPartnerPrograms' },
  MISSING_PROGRAM_NAME: { code: 2002, message: 'Required field is empty or null: partnerProgramName' },
  MALFORMED_REFERENCE: {
    code: 2002,
    message: 'Required field is empty or null: customerPartnerReference must be an object of strings',
  },
  MISSING_MEMBERSHIP_ID: { code: 2002, message: 'Required field is empty or null: partnerMembershipId' },
  MEMBERSHIP_ID_TOO_LONG: { code: 2002, message: 'partnerMembershipId must be a string of at most 255 characters' },
  MISSING_UPDATE_TYPE: { code: 2002, message: 'Required field is empty or null: updateType' },
  MISSING_TIER_NAME: { code: 2002, message: 'Required field is empty or null: updatedTierName' },
  MISSING_TIER_EXPIRY: { code: 2002, message: 'Required field is empty or null: updatedTierExpiryDate' },
  MISSING_UPDATE_DETAILS: { code: 2002, message: 'Required field is empty or null: updateDetails' },
  MALFORMED_UPDATE_DETAILS: {
    code: 2002,
    message: 'Required field is empty or null: updateDetails must be an object of strings',
  },
  MISSING_DELINK_LIST: { code: 2002, message: 'Required field is empty or null: deLinkFromPartnerPrograms' },
  MISSING_UPDATE_LIST: { code: 2002, message: 'Required field is empty or null: partnerProgramUpdates' },
  TIER_EXPIRY_IN_PAST: { code: 2003, message: 'Partner tier expiry date must be today or a future date' },
  NOT_LINKED: { code: 2004, message: 'Customer not linked with the partner program' },
  NOT_ENROLLED: { code: 2005, message: 'Customer not enrolled in loyalty program' },
  ALREADY_LINKED: { code: 2005, message: 'Partner program already linked with customer' },
  PROGRAM_NOT_FOUND: { code: 2006, message: 'Partner program not found' },
  TIER_NOT_FOUND: { code: 2007, message: 'Partner program tier not found' },
  INVALID_UPDATE_TYPE: {
    code: 2009,
    message: 'Invalid updateType: supports only UPGRADE, DOWNGRADE, RENEW, UPDATE, MEMBERSHIP_RELINKING_CANCELLED',
  },
  CUSTOMER_BUSY: { code: 2010, message: 'Partner program events for this customer are queued; retry' },
  ONE_SUPPLEMENTARY_AT_A_TIME: {
    code: 2019,
    message: 'Customer can only be linked to one supplementary partner program at a time',
  },
  PROGRAM_EXPIRED: { code: 2020, message: 'Partner program has expired' },
  PROGRAM_INACTIVE: { code: 2021, message: 'Partner program is inactive' },
  NO_PENDING_RELINK: { code: 2022, message: 'No pending relinking to cancel' },
  TIER_CHANGE_MISMATCH: { code: 2023, message: 'Tier change does not match updateType' },
  INVALID_DATE: { code: 2024, message: 'Invalid date format' },
  START_IN_PAST: { code: 2025, message: 'membershipStartDate is in the past' },
  RELINKING_DISABLED: { code: 2026, message: 'Membership relinking is not enabled for this organisation' },
} as const;
export type EntryOutcome = keyof typeof entryOutcomes;

/** Whole-answer errors of the activity history (SPEC §7), carried in its `errors[]`. */
export const historyOutcomes = {
  NO_ACTIVITY: { status: false, code: 2011, message: 'No partner program activity found for customer' },
  INVALID_ACTIVITY_TYPE: {
    status: false,
    code: 2014,
    message: 'activityType must be LINKINGUPDATES or BENEFITSAVAILED',
  },
  DATES_NOT_ALLOWED: {
    status: false,
    code: 2015,
    message: 'startDate and endDate are not allowed when activityType is LINKINGUPDATES',
  },
} as const;

export const warningOutcomes = {
  PROGRAM_EXPIRES_BEFORE_MEMBERSHIP: {
    code: 1302,
    message: 'Supplementary program expiry is before membership expiry',
  },
} as const;
export type WarningOutcome = keyof typeof warningOutcomes;
