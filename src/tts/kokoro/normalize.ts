// A small English text normaliser run before espeak-ng: Kokoro was trained on phonemes of spoken-out text,
// and espeak's own reading of symbols ("$5" -> "dollar five") is wrong in order or missing. It covers what
// answers of a voice agent hold: numbers, money, clock times, percentages and common titles.

const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES: [number, string][] = [
  [1e9, 'billion'],
  [1e6, 'million'],
  [1e3, 'thousand'],
];

function underThousand(n: number): string {
  const words: string[] = [];
  if (n >= 100) {
    words.push(`${ONES[Math.floor(n / 100)]} hundred`);
    n %= 100;
  }
  if (n >= 20) {
    words.push(n % 10 === 0 ? TENS[Math.floor(n / 10)] : `${TENS[Math.floor(n / 10)]}-${ONES[n % 10]}`);
  } else if (n > 0 || words.length === 0) {
    words.push(ONES[n]);
  }
  return words.join(' ');
}

/** Integer words up to the trillions; larger numbers are read digit by digit. */
export function integerToWords(n: number): string {
  if (!Number.isSafeInteger(n) || n >= 1e12)
    return String(n)
      .split('')
      .map((d) => ONES[Number(d)] ?? d)
      .join(' ');
  if (n < 0) return `minus ${integerToWords(-n)}`;
  const parts: string[] = [];
  for (const [scale, name] of SCALES) {
    if (n >= scale) {
      parts.push(`${underThousand(Math.floor(n / scale))} ${name}`);
      n %= scale;
    }
  }
  if (n > 0 || parts.length === 0) parts.push(underThousand(n));
  return parts.join(' ');
}

function decimalToWords(text: string): string {
  const [whole, fraction] = text.split('.');
  const head = integerToWords(Number(whole));
  return fraction === undefined
    ? head
    : `${head} point ${fraction
        .split('')
        .map((d) => ONES[Number(d)])
        .join(' ')}`;
}

const CURRENCIES: Record<string, [string, string, string, string]> = {
  $: ['dollar', 'dollars', 'cent', 'cents'],
  '£': ['pound', 'pounds', 'penny', 'pence'],
  '€': ['euro', 'euros', 'cent', 'cents'],
};

function moneyToWords(symbol: string, amount: string, scale: string | undefined): string {
  const [one, many, subOne, subMany] = CURRENCIES[symbol];
  const [whole, fraction] = amount.replace(/,/g, '').split('.');
  const units = Number(whole);
  if (scale !== undefined) return `${decimalToWords(amount.replace(/,/g, ''))} ${scale.toLowerCase()} ${many}`;
  const cents = fraction === undefined ? 0 : Number(fraction.padEnd(2, '0').slice(0, 2));
  const unitWords = `${integerToWords(units)} ${units === 1 ? one : many}`;
  if (cents === 0) return unitWords;
  const centWords = `${integerToWords(cents)} ${cents === 1 ? subOne : subMany}`;
  return units === 0 ? centWords : `${unitWords} and ${centWords}`;
}

function timeToWords(hours: string, minutes: string, meridiem: string | undefined): string {
  const h = integerToWords(Number(hours));
  const m = Number(minutes);
  const minuteWords =
    m === 0 ? (meridiem === undefined ? "o'clock" : '') : m < 10 ? `oh ${ONES[m]}` : integerToWords(m);
  const suffix = meridiem === undefined ? '' : ` ${meridiem.replace(/\./g, '').toUpperCase().split('').join(' ')}`;
  return `${h}${minuteWords === '' ? '' : ` ${minuteWords}`}${suffix}`;
}

const ORDINAL_WORDS: Record<string, string> = {
  one: 'first',
  two: 'second',
  three: 'third',
  five: 'fifth',
  eight: 'eighth',
  nine: 'ninth',
  twelve: 'twelfth',
};

function ordinalToWords(n: number): string {
  const words = integerToWords(n);
  return words.replace(/([a-z]+)$/, (last: string) => {
    if (ORDINAL_WORDS[last] !== undefined) return ORDINAL_WORDS[last];
    if (last.endsWith('y')) return `${last.slice(0, -1)}ieth`;
    return `${last}th`;
  });
}

const TITLES: Record<string, string> = {
  mr: 'Mister',
  mrs: 'Missus',
  ms: 'Miz',
  dr: 'Doctor',
  prof: 'Professor',
  st: 'Saint',
  jr: 'Junior',
  sr: 'Senior',
  mt: 'Mount',
  vs: 'versus',
};

/** Spells out what espeak-ng would misread; everything else is left as written. */
export function normalizeText(text: string): string {
  return (
    text
      .replace(/\b(Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Mt|vs)\./gi, (_m, t: string) => TITLES[t.toLowerCase()])
      .replace(
        /([$£€])\s?(\d[\d,]*(?:\.\d+)?)(?:\s?(thousand|million|billion|trillion)\b)?/gi,
        (_m, s: string, a: string, scale: string | undefined) => moneyToWords(s, a, scale),
      )
      // "3 pm." keeps its full stop; "3 p.m." is taken whole (its last dot may also end the sentence).
      .replace(
        /\b(\d{1,2}):(\d{2})(?:\s?([ap])(\.?)m(\.?)(?=\W|$))?/gi,
        (_m, h: string, mm: string, ap: string | undefined, inner: string, last: string) =>
          timeToWords(h, mm, ap === undefined ? undefined : `${ap}m`) + (inner === '' ? last : ''),
      )
      .replace(/\b(\d+)(st|nd|rd|th)\b/gi, (_m, n: string) => ordinalToWords(Number(n)))
      .replace(/(\d[\d,]*(?:\.\d+)?)\s?%/g, (_m, n: string) => `${decimalToWords(n.replace(/,/g, ''))} percent`)
      .replace(/\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b/g, (n) => decimalToWords(n.replace(/,/g, '')))
      .replace(/\b\d+(?:\.\d+)?\b/g, (n) => decimalToWords(n))
  );
}
