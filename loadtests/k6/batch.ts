import { defineScenario } from './common.ts';

/** k6 load test of v2 batch calls: `POST /api/v2/batch` with the profile's batch sizes. */
const scenario = defineScenario('batch');

export const options = scenario.options;
export const setup = scenario.setup;
export const handleSummary = scenario.handleSummary;
export default scenario.iterate;
