// Cities and their main airports for the trip planner's lookups: a small bundled subset (36 cities).
//
// Source and licence: IATA codes, coordinates (decimal degrees, rounded to 0.01) and IANA time zones are
// public geographic facts; the values follow OurAirports (https://ourairports.com/data/), whose data is
// released into the public domain. The subset was compiled by hand for Earshot (not downloaded), so
// coordinates are approximate (within a few km); do not use them for navigation.

export interface Place {
  city: string;
  country: string;
  /** IANA time zone. */
  timeZone: string;
  lat: number;
  lon: number;
  airports: { iata: string; name: string; lat: number; lon: number }[];
}

export const PLACES: readonly Place[] = [
  {
    city: 'London',
    country: 'United Kingdom',
    timeZone: 'Europe/London',
    lat: 51.51,
    lon: -0.13,
    airports: [
      { iata: 'LHR', name: 'Heathrow', lat: 51.47, lon: -0.45 },
      { iata: 'LGW', name: 'Gatwick', lat: 51.15, lon: -0.19 },
    ],
  },
  {
    city: 'Paris',
    country: 'France',
    timeZone: 'Europe/Paris',
    lat: 48.86,
    lon: 2.35,
    airports: [
      { iata: 'CDG', name: 'Charles de Gaulle', lat: 49.01, lon: 2.55 },
      { iata: 'ORY', name: 'Orly', lat: 48.73, lon: 2.37 },
    ],
  },
  {
    city: 'Berlin',
    country: 'Germany',
    timeZone: 'Europe/Berlin',
    lat: 52.52,
    lon: 13.4,
    airports: [{ iata: 'BER', name: 'Berlin Brandenburg', lat: 52.36, lon: 13.5 }],
  },
  {
    city: 'Madrid',
    country: 'Spain',
    timeZone: 'Europe/Madrid',
    lat: 40.42,
    lon: -3.7,
    airports: [{ iata: 'MAD', name: 'Adolfo Suárez Madrid–Barajas', lat: 40.47, lon: -3.56 }],
  },
  {
    city: 'Rome',
    country: 'Italy',
    timeZone: 'Europe/Rome',
    lat: 41.9,
    lon: 12.5,
    airports: [{ iata: 'FCO', name: 'Fiumicino', lat: 41.8, lon: 12.25 }],
  },
  {
    city: 'Amsterdam',
    country: 'Netherlands',
    timeZone: 'Europe/Amsterdam',
    lat: 52.37,
    lon: 4.9,
    airports: [{ iata: 'AMS', name: 'Schiphol', lat: 52.31, lon: 4.76 }],
  },
  {
    city: 'Lisbon',
    country: 'Portugal',
    timeZone: 'Europe/Lisbon',
    lat: 38.72,
    lon: -9.14,
    airports: [{ iata: 'LIS', name: 'Humberto Delgado', lat: 38.78, lon: -9.14 }],
  },
  {
    city: 'Vienna',
    country: 'Austria',
    timeZone: 'Europe/Vienna',
    lat: 48.21,
    lon: 16.37,
    airports: [{ iata: 'VIE', name: 'Vienna International', lat: 48.11, lon: 16.57 }],
  },
  {
    city: 'Zurich',
    country: 'Switzerland',
    timeZone: 'Europe/Zurich',
    lat: 47.38,
    lon: 8.54,
    airports: [{ iata: 'ZRH', name: 'Zurich', lat: 47.46, lon: 8.55 }],
  },
  {
    city: 'Stockholm',
    country: 'Sweden',
    timeZone: 'Europe/Stockholm',
    lat: 59.33,
    lon: 18.07,
    airports: [{ iata: 'ARN', name: 'Arlanda', lat: 59.65, lon: 17.92 }],
  },
  {
    city: 'Oslo',
    country: 'Norway',
    timeZone: 'Europe/Oslo',
    lat: 59.91,
    lon: 10.75,
    airports: [{ iata: 'OSL', name: 'Gardermoen', lat: 60.19, lon: 11.1 }],
  },
  {
    city: 'Copenhagen',
    country: 'Denmark',
    timeZone: 'Europe/Copenhagen',
    lat: 55.68,
    lon: 12.57,
    airports: [{ iata: 'CPH', name: 'Kastrup', lat: 55.62, lon: 12.66 }],
  },
  {
    city: 'Dublin',
    country: 'Ireland',
    timeZone: 'Europe/Dublin',
    lat: 53.35,
    lon: -6.26,
    airports: [{ iata: 'DUB', name: 'Dublin', lat: 53.42, lon: -6.27 }],
  },
  {
    city: 'Istanbul',
    country: 'Turkey',
    timeZone: 'Europe/Istanbul',
    lat: 41.01,
    lon: 28.98,
    airports: [{ iata: 'IST', name: 'Istanbul', lat: 41.26, lon: 28.74 }],
  },
  {
    city: 'Athens',
    country: 'Greece',
    timeZone: 'Europe/Athens',
    lat: 37.98,
    lon: 23.73,
    airports: [{ iata: 'ATH', name: 'Eleftherios Venizelos', lat: 37.94, lon: 23.94 }],
  },
  {
    city: 'Cairo',
    country: 'Egypt',
    timeZone: 'Africa/Cairo',
    lat: 30.04,
    lon: 31.24,
    airports: [{ iata: 'CAI', name: 'Cairo International', lat: 30.12, lon: 31.41 }],
  },
  {
    city: 'Nairobi',
    country: 'Kenya',
    timeZone: 'Africa/Nairobi',
    lat: -1.29,
    lon: 36.82,
    airports: [{ iata: 'NBO', name: 'Jomo Kenyatta', lat: -1.32, lon: 36.93 }],
  },
  {
    city: 'Johannesburg',
    country: 'South Africa',
    timeZone: 'Africa/Johannesburg',
    lat: -26.2,
    lon: 28.05,
    airports: [{ iata: 'JNB', name: 'O. R. Tambo', lat: -26.14, lon: 28.25 }],
  },
  {
    city: 'Dubai',
    country: 'United Arab Emirates',
    timeZone: 'Asia/Dubai',
    lat: 25.2,
    lon: 55.27,
    airports: [{ iata: 'DXB', name: 'Dubai International', lat: 25.25, lon: 55.36 }],
  },
  {
    city: 'Delhi',
    country: 'India',
    timeZone: 'Asia/Kolkata',
    lat: 28.61,
    lon: 77.21,
    airports: [{ iata: 'DEL', name: 'Indira Gandhi', lat: 28.57, lon: 77.1 }],
  },
  {
    city: 'Mumbai',
    country: 'India',
    timeZone: 'Asia/Kolkata',
    lat: 19.08,
    lon: 72.88,
    airports: [{ iata: 'BOM', name: 'Chhatrapati Shivaji Maharaj', lat: 19.09, lon: 72.87 }],
  },
  {
    city: 'Singapore',
    country: 'Singapore',
    timeZone: 'Asia/Singapore',
    lat: 1.35,
    lon: 103.82,
    airports: [{ iata: 'SIN', name: 'Changi', lat: 1.36, lon: 103.99 }],
  },
  {
    city: 'Bangkok',
    country: 'Thailand',
    timeZone: 'Asia/Bangkok',
    lat: 13.76,
    lon: 100.5,
    airports: [{ iata: 'BKK', name: 'Suvarnabhumi', lat: 13.69, lon: 100.75 }],
  },
  {
    city: 'Hong Kong',
    country: 'China',
    timeZone: 'Asia/Hong_Kong',
    lat: 22.32,
    lon: 114.17,
    airports: [{ iata: 'HKG', name: 'Hong Kong International', lat: 22.31, lon: 113.91 }],
  },
  {
    city: 'Beijing',
    country: 'China',
    timeZone: 'Asia/Shanghai',
    lat: 39.9,
    lon: 116.41,
    airports: [{ iata: 'PEK', name: 'Capital', lat: 40.08, lon: 116.58 }],
  },
  {
    city: 'Shanghai',
    country: 'China',
    timeZone: 'Asia/Shanghai',
    lat: 31.23,
    lon: 121.47,
    airports: [{ iata: 'PVG', name: 'Pudong', lat: 31.14, lon: 121.81 }],
  },
  {
    city: 'Tokyo',
    country: 'Japan',
    timeZone: 'Asia/Tokyo',
    lat: 35.68,
    lon: 139.69,
    airports: [
      { iata: 'HND', name: 'Haneda', lat: 35.55, lon: 139.78 },
      { iata: 'NRT', name: 'Narita', lat: 35.77, lon: 140.39 },
    ],
  },
  {
    city: 'Seoul',
    country: 'South Korea',
    timeZone: 'Asia/Seoul',
    lat: 37.57,
    lon: 126.98,
    airports: [{ iata: 'ICN', name: 'Incheon', lat: 37.46, lon: 126.44 }],
  },
  {
    city: 'Sydney',
    country: 'Australia',
    timeZone: 'Australia/Sydney',
    lat: -33.87,
    lon: 151.21,
    airports: [{ iata: 'SYD', name: 'Kingsford Smith', lat: -33.95, lon: 151.18 }],
  },
  {
    city: 'Auckland',
    country: 'New Zealand',
    timeZone: 'Pacific/Auckland',
    lat: -36.85,
    lon: 174.76,
    airports: [{ iata: 'AKL', name: 'Auckland', lat: -37.01, lon: 174.79 }],
  },
  {
    city: 'New York',
    country: 'United States',
    timeZone: 'America/New_York',
    lat: 40.71,
    lon: -74.01,
    airports: [
      { iata: 'JFK', name: 'John F. Kennedy', lat: 40.64, lon: -73.78 },
      { iata: 'EWR', name: 'Newark Liberty', lat: 40.69, lon: -74.17 },
    ],
  },
  {
    city: 'San Francisco',
    country: 'United States',
    timeZone: 'America/Los_Angeles',
    lat: 37.77,
    lon: -122.42,
    airports: [{ iata: 'SFO', name: 'San Francisco International', lat: 37.62, lon: -122.38 }],
  },
  {
    city: 'Los Angeles',
    country: 'United States',
    timeZone: 'America/Los_Angeles',
    lat: 34.05,
    lon: -118.24,
    airports: [{ iata: 'LAX', name: 'Los Angeles International', lat: 33.94, lon: -118.41 }],
  },
  {
    city: 'Chicago',
    country: 'United States',
    timeZone: 'America/Chicago',
    lat: 41.88,
    lon: -87.63,
    airports: [{ iata: 'ORD', name: "O'Hare", lat: 41.98, lon: -87.9 }],
  },
  {
    city: 'Toronto',
    country: 'Canada',
    timeZone: 'America/Toronto',
    lat: 43.65,
    lon: -79.38,
    airports: [{ iata: 'YYZ', name: 'Pearson', lat: 43.68, lon: -79.63 }],
  },
  {
    city: 'Mexico City',
    country: 'Mexico',
    timeZone: 'America/Mexico_City',
    lat: 19.43,
    lon: -99.13,
    airports: [{ iata: 'MEX', name: 'Benito Juárez', lat: 19.44, lon: -99.07 }],
  },
  {
    city: 'São Paulo',
    country: 'Brazil',
    timeZone: 'America/Sao_Paulo',
    lat: -23.55,
    lon: -46.63,
    airports: [{ iata: 'GRU', name: 'Guarulhos', lat: -23.43, lon: -46.47 }],
  },
  {
    city: 'Buenos Aires',
    country: 'Argentina',
    timeZone: 'America/Argentina/Buenos_Aires',
    lat: -34.6,
    lon: -58.38,
    airports: [{ iata: 'EZE', name: 'Ezeiza', lat: -34.82, lon: -58.54 }],
  },
];

const fold = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim();

/** A city by name (accents and case ignored) or by one of its airports' IATA codes. */
export function findPlace(query: string): Place | undefined {
  const q = fold(query);
  return (
    PLACES.find((p) => fold(p.city) === q) ?? PLACES.find((p) => p.airports.some((a) => a.iata.toLowerCase() === q))
  );
}

/** Cities whose name starts with or contains the query. */
export function searchPlaces(query: string, limit = 5): Place[] {
  const q = fold(query);
  if (q === '') return [];
  const starts = PLACES.filter((p) => fold(p.city).startsWith(q));
  const contains = PLACES.filter(
    (p) => !starts.includes(p) && (fold(p.city).includes(q) || fold(p.country).includes(q)),
  );
  return [...starts, ...contains].slice(0, limit);
}
