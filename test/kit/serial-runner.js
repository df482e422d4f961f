// The e2e project's jest runner: jest's own runner, but always in band (one test file at a time, in the main
// jest process), so suites that start Chromium, Apache, nginx and the OpenID provider never run two at a time.
// jest runs the test files of each runner one runner after the other, so the e2e files also never overlap the
// unit and integration files that run in parallel workers.
const TestRunner = require('jest-runner').default;

class SerialRunner extends TestRunner {
  isSerial = true;
}

module.exports = SerialRunner;
