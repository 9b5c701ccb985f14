// Reference exchange rates for the trip planner's currency conversion, bundled so the tool works
// offline. Units of each currency per 1 EUR, in the style of the ECB's euro foreign exchange reference
// rates (ECB data may be reused with the source acknowledged: https://www.ecb.europa.eu/stats/eurofxref/).
// These values were compiled by hand as approximations of early-2025 levels, not downloaded: they are
// for planning estimates only, and every answer states the table's date.

export const RATES_DATE = '2025-01-02';
export const RATES_SOURCE = 'approximate ECB-style reference rates, compiled by hand (not for financial use)';

export const UNITS_PER_EUR: Readonly<Record<string, number>> = {
  EUR: 1,
  USD: 1.035,
  GBP: 0.83,
  JPY: 163.0,
  CHF: 0.94,
  SEK: 11.5,
  NOK: 11.8,
  DKK: 7.46,
  CAD: 1.49,
  AUD: 1.67,
  NZD: 1.84,
  CNY: 7.56,
  HKD: 8.05,
  SGD: 1.41,
  INR: 88.8,
  KRW: 1525,
  THB: 35.6,
  TRY: 36.6,
  MXN: 21.4,
  BRL: 6.4,
  ZAR: 19.5,
  AED: 3.8,
};
