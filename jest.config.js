// Three test kinds, run by `npm test` together; each is a jest project.
const transform = {
  "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.jest.json", diagnostics: false }],
};
const moduleNameMapper = {
  "^cliffracer$": "<rootDir>/src/index.ts",
  "^cliffracer/testing$": "<rootDir>/sidebyside/testing.ts",
  "^cliffracer/compat$": "<rootDir>/compat/index.ts",
  "^cliffracer/amqp$": "<rootDir>/amqp/index.ts",
  "^cliffracer/bridge$": "<rootDir>/bridge/index.ts",
  "^cliffracer/sql$": "<rootDir>/providers/sql/index.ts",
  "^cliffracer/redis$": "<rootDir>/providers/redis/index.ts",
};
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: "node",
  transform,
  moduleNameMapper,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  // `npm pack` (and test/integration/package) builds into dist/, which holds a copy of package.json.
  modulePathIgnorePatterns: ["<rootDir>/dist/"],
  ...extra,
});

module.exports = {
  // Two test files at a time. Most integration tests wait on brokers, not the CPU, and each uses its
  // own names, so on the 2-core CI machine two workers finish the suite in 0.6x the time of jest's
  // default there (one worker): 365 s against 609 s for the same 112 files, all passing.
  maxWorkers: 2,
  // A global option: jest ignores testTimeout inside a project. Integration tests wait on real brokers.
  testTimeout: 60000,
  projects: [project("unit"), project("integration"), project("interop")],
};
