import { defineScenario } from './common.ts';

/** k6 load test of track calls: `POST /api/v1/customers/:id/events` with the profile's events. */
const scenario = defineScenario('track');

export const options = scenario.options;
export const setup = scenario.setup;
export const handleSummary = scenario.handleSummary;
export default scenario.iterate;
