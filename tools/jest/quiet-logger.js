// Services constructed directly in unit tests log through Nest's default
// logger; keep it to warnings and errors, like LOG_LEVEL=warn for whole apps.
const { Logger } = require('@nestjs/common');

Logger.overrideLogger(['fatal', 'error', 'warn']);
