import { defineScenario } from './common.ts';

/** k6 load test of identify calls: `PUT /api/v1/customers/:id` with the profile's attributes. */
const scenario = defineScenario('identify');

export const options = scenario.options;
export const setup = scenario.setup;
export const handleSummary = scenario.handleSummary;
export default scenario.iterate;
