import { defineScenario } from './common.ts';

/** k6 load test of mixed traffic: identify, track and v2 batch calls in the profile's proportions. */
const scenario = defineScenario('mixed');

export const options = scenario.options;
export const setup = scenario.setup;
export const handleSummary = scenario.handleSummary;
export default scenario.iterate;
