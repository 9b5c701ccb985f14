// The biased tiny fixture model lives in src (the spoken-answer benchmark uses it too).
export { favouringFixtureModel } from '../../src/engine/phi4mm/fixture/favour.ts';
