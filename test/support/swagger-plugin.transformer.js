// ts-jest AST transformer that runs the @nestjs/swagger CLI plugin, as `nest build` does.
const plugin = require('@nestjs/swagger/plugin');

module.exports.name = 'nestjs-swagger-transformer';
module.exports.version = 1;
module.exports.factory = (compiler) =>
  plugin.before(
    { introspectComments: true, classValidatorShim: true, dtoFileNameSuffix: ['.dto.ts'] },
    compiler.program,
  );
