/**
 * The project's own security rules for `npm run sec` (issue #18): the mistakes this codebase can
 * make that generic rule sets cannot know about. Hand-written because they encode our choices
 * (which router, which outbound clients). Fixture tests: test/unit/lint/security-rules.test.ts.
 */
import path from 'node:path';

import ts from 'typescript';

/** Request objects whose path must not decide anything (Koa `ctx`, Node `req`). */
const REQUEST_OBJECT = /^(ctx|context|req|request)$/;
const RAW_PATH_PROPERTIES = new Set(['path', 'url', 'originalUrl', 'pathname']);
/** String methods that turn a path into a decision. */
const STRING_TESTS = new Set([
  'startsWith',
  'endsWith',
  'includes',
  'indexOf',
  'lastIndexOf',
  'match',
  'matchAll',
  'search',
  'localeCompare',
]);
/** Calls that keep a string a "raw path" (`ctx.path.toLowerCase().startsWith(...)` is still one). */
const PASS_THROUGH = new Set([
  'toLowerCase',
  'toUpperCase',
  'trim',
  'trimEnd',
  'trimStart',
  'normalize',
  'slice',
  'substring',
]);

/** `ctx.path`, `ctx.request.path`, `ctx.req.url`, `req.url`… possibly through `.toLowerCase()`. */
function isRawPath(node) {
  if (!node) return false;
  if (node.type === 'ChainExpression') return isRawPath(node.expression);
  if (node.type === 'CallExpression' && node.callee.type === 'MemberExpression') {
    const name = node.callee.property.name;
    return PASS_THROUGH.has(name) && isRawPath(node.callee.object);
  }
  if (node.type !== 'MemberExpression' || node.computed) return false;
  if (!RAW_PATH_PROPERTIES.has(node.property.name)) return false;
  const owner = node.object;
  if (owner.type === 'Identifier') return REQUEST_OBJECT.test(owner.name);
  return (
    owner.type === 'MemberExpression' &&
    !owner.computed &&
    owner.object.type === 'Identifier' &&
    /^(ctx|context)$/.test(owner.object.name) &&
    ['request', 'req'].includes(owner.property.name)
  );
}

const noPathAuth = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid decisions (auth, routing) made on the raw request path string' },
    schema: [],
    messages: {
      rawPath:
        'Decision on the raw request path `{{text}}`: a path has many spellings (case, `//`, `%2F`, trailing `/`). Attach auth to a router made by createStrictRouter instead (#11).',
    },
  },
  create(context) {
    const report = (node) =>
      context.report({
        node,
        messageId: 'rawPath',
        data: { text: context.sourceCode.getText(node).slice(0, 60) },
      });
    return {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.computed) return;
        if (STRING_TESTS.has(callee.property.name) && isRawPath(callee.object)) report(node);
        else if (['test', 'exec'].includes(callee.property.name) && isRawPath(node.arguments[0]))
          report(node);
      },
      BinaryExpression(node) {
        if (!['===', '!==', '==', '!='].includes(node.operator)) return;
        if (isRawPath(node.left) || isRawPath(node.right)) report(node);
      },
      SwitchStatement(node) {
        if (isRawPath(node.discriminant)) report(node.discriminant);
      },
    };
  },
};

/** Local names bound to `@koa/router`'s router constructors in this module. */
function collectImports(program, source, names) {
  const bound = new Map();
  for (const statement of program.body) {
    if (statement.type !== 'ImportDeclaration' || !source(statement.source.value)) continue;
    for (const spec of statement.specifiers) {
      if (spec.type === 'ImportDefaultSpecifier') bound.set(spec.local.name, 'default');
      else if (spec.type === 'ImportNamespaceSpecifier') bound.set(spec.local.name, '*');
      else if (spec.importKind !== 'type' && names(spec.imported.name ?? spec.imported.value)) {
        bound.set(spec.local.name, spec.imported.name ?? spec.imported.value);
      }
    }
  }
  return bound;
}

const ROUTER_FACTORIES = new Set(['Router', 'default', 'createRouter', 'KoaRouter']);

function hasTrueOption(objectExpression, key) {
  return objectExpression.properties.some(
    (p) =>
      p.type === 'Property' &&
      !p.computed &&
      (p.key.name === key || p.key.value === key) &&
      p.value.type === 'Literal' &&
      p.value.value === true,
  );
}

const strictRouter = {
  meta: {
    type: 'problem',
    docs: { description: 'Require case-sensitive, strict matching on every @koa/router router' },
    schema: [],
    messages: {
      loose:
        'Router built without `{ sensitive: true, strict: true }`: `/PRIVATE/x` or `/x/` would reach its routes. Use createStrictRouter (#11).',
    },
  },
  create(context) {
    let bound = new Map();
    const check = (node) => {
      const callee = node.callee;
      const isRouter =
        (callee.type === 'Identifier' && bound.has(callee.name)) ||
        (callee.type === 'MemberExpression' &&
          callee.object.type === 'Identifier' &&
          bound.get(callee.object.name) === '*' &&
          ROUTER_FACTORIES.has(callee.property.name));
      if (!isRouter) return;
      const options = node.arguments[0];
      const strict =
        options?.type === 'ObjectExpression' &&
        hasTrueOption(options, 'sensitive') &&
        hasTrueOption(options, 'strict');
      if (!strict) context.report({ node, messageId: 'loose' });
    };
    return {
      Program(program) {
        bound = collectImports(
          program,
          (s) => s === '@koa/router',
          (n) => ROUTER_FACTORIES.has(n),
        );
      },
      NewExpression: check,
      CallExpression: check,
    };
  },
};

/** Outbound network APIs, by module; `call` names are functions, `construct` names classes. */
const OUTBOUND = [
  {
    modules: ['undici'],
    call: ['request', 'fetch', 'stream', 'pipeline', 'connect', 'upgrade'],
    construct: ['Agent', 'Client', 'Pool', 'BalancedPool', 'ProxyAgent', 'RetryAgent', 'EnvHttpProxyAgent'],
  },
  {
    modules: ['http', 'https', 'node:http', 'node:https', 'http2', 'node:http2'],
    call: ['request', 'get', 'connect'],
    construct: ['Agent'],
  },
  {
    modules: ['net', 'node:net', 'tls', 'node:tls'],
    call: ['connect', 'createConnection'],
    construct: ['Socket'],
  },
  { modules: ['node-fetch', 'axios', 'got', 'ky', 'superagent'], call: ['default'], construct: [] },
];
const GLOBAL_OUTBOUND_CALLS = new Set(['fetch']);
const GLOBAL_OUTBOUND_CLASSES = new Set(['WebSocket', 'XMLHttpRequest', 'EventSource']);

const noRawOutboundRequest = {
  meta: {
    type: 'problem',
    docs: {
      description:
        'Allow outbound HTTP only through the pinned attachment dispatcher and the CRM client (SSRF, DESIGN.md §8)',
    },
    schema: [
      {
        type: 'object',
        properties: {
          allow: {
            type: 'array',
            items: {
              type: 'object',
              properties: { file: { type: 'string' }, requireDispatcher: { type: 'boolean' } },
              required: ['file'],
              additionalProperties: false,
            },
          },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      outbound:
        '`{{name}}` from {{module}} opens an outbound connection outside the pinned attachment downloader and the CRM client; route it through them, or justify why this target can never come from CRM or CDP data.',
      global:
        'Global `{{name}}` opens an outbound connection outside the pinned downloader and the CRM client.',
      dispatcher:
        '`{{name}}` here must pass the pinned `dispatcher` (createPinnedDispatcher): without it DNS is asked again.',
    },
  },
  create(context) {
    const allow = context.options[0]?.allow ?? [];
    const file = path.relative(context.cwd, context.filename).split(path.sep).join('/');
    const allowed = allow.find((a) => a.file === file);
    /** local name → { module, imported } */
    const bindings = new Map();
    const isShadowed = (node) => {
      let scope = context.sourceCode.getScope(node);
      for (; scope; scope = scope.upper) {
        const v = scope.set.get(node.name);
        if (v && v.defs.length > 0) return true;
      }
      return false;
    };
    return {
      ImportDeclaration(node) {
        if (node.importKind === 'type') return;
        const group = OUTBOUND.find((g) => g.modules.includes(node.source.value));
        if (!group) return;
        for (const spec of node.specifiers) {
          if (spec.importKind === 'type') continue;
          const imported =
            spec.type === 'ImportSpecifier'
              ? (spec.imported.name ?? spec.imported.value)
              : spec.type === 'ImportDefaultSpecifier'
                ? 'default'
                : '*';
          const dangerous =
            imported === '*' ||
            imported === 'default' ||
            group.call.includes(imported) ||
            group.construct.includes(imported);
          if (!dangerous) continue;
          bindings.set(spec.local.name, { module: node.source.value, imported });
          if (!allowed) {
            context.report({
              node: spec,
              messageId: 'outbound',
              data: { name: imported, module: `'${node.source.value}'` },
            });
          }
        }
      },
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type === 'Identifier' && GLOBAL_OUTBOUND_CALLS.has(callee.name) && !isShadowed(callee)) {
          if (!allowed) context.report({ node, messageId: 'global', data: { name: callee.name } });
          return;
        }
        if (!allowed?.requireDispatcher || callee.type !== 'Identifier') return;
        const binding = bindings.get(callee.name);
        if (!binding || binding.module !== 'undici') return;
        const options = node.arguments[1];
        const hasDispatcher =
          options?.type === 'ObjectExpression' &&
          options.properties.some((p) => p.type === 'Property' && !p.computed && p.key.name === 'dispatcher');
        if (!hasDispatcher) context.report({ node, messageId: 'dispatcher', data: { name: callee.name } });
      },
      NewExpression(node) {
        const callee = node.callee;
        if (
          callee.type === 'Identifier' &&
          GLOBAL_OUTBOUND_CLASSES.has(callee.name) &&
          !isShadowed(callee) &&
          !allowed
        ) {
          context.report({ node, messageId: 'global', data: { name: callee.name } });
        }
      },
    };
  },
};

const HTML_PROPERTIES = new Set(['innerHTML', 'outerHTML']);
const HTML_METHODS = new Map([
  ['insertAdjacentHTML', 1],
  ['write', 0],
  ['writeln', 0],
  ['createContextualFragment', 0],
  ['setHTMLUnsafe', 0],
]);

/** A string literal, or a template without `${}`: markup fixed in the source. */
function isStaticMarkup(node) {
  if (!node) return true;
  if (node.type === 'Literal') return typeof node.value === 'string' || node.value === null;
  return node.type === 'TemplateLiteral' && node.expressions.length === 0;
}

function memberName(node) {
  if (node.type !== 'MemberExpression') return null;
  if (!node.computed) return node.property.name;
  return node.property.type === 'Literal' ? String(node.property.value) : null;
}

const noHtmlSink = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Forbid innerHTML/outerHTML/insertAdjacentHTML (and friends) with non-literal markup',
    },
    schema: [],
    messages: {
      sink: '`{{name}}` with markup that is not a literal: anything from CRM or CDP would run as HTML. Use textContent, or build nodes.',
    },
  },
  create(context) {
    return {
      AssignmentExpression(node) {
        const name = memberName(node.left);
        if (name && HTML_PROPERTIES.has(name) && !(node.operator === '=' && isStaticMarkup(node.right))) {
          context.report({ node, messageId: 'sink', data: { name } });
        }
      },
      CallExpression(node) {
        const name = memberName(node.callee);
        if (!name || !HTML_METHODS.has(name)) return;
        if (name.startsWith('write') && context.sourceCode.getText(node.callee.object) !== 'document') return;
        if (!isStaticMarkup(node.arguments[HTML_METHODS.get(name)])) {
          context.report({ node, messageId: 'sink', data: { name } });
        }
      },
    };
  },
};

/** Key types that cannot be `__proto__`: numbers, symbols, literal unions, enums (and their constraints). */
function isNarrowKey(type, checker) {
  if (type.isUnion()) return type.types.every((t) => isNarrowKey(t, checker));
  if (type.flags & ts.TypeFlags.TypeParameter) {
    const constraint = checker.getBaseConstraintOfType(type);
    return constraint !== undefined && constraint !== type && isNarrowKey(constraint, checker);
  }
  if (type.flags & ts.TypeFlags.TemplateLiteral) {
    // `${number}` and the like: every hole is a number, so the text can never be `__proto__`.
    return type.types.every((t) => isNarrowKey(t, checker) && !(t.flags & ts.TypeFlags.StringLike));
  }
  const narrow =
    ts.TypeFlags.NumberLike |
    ts.TypeFlags.BigIntLike |
    ts.TypeFlags.ESSymbolLike |
    ts.TypeFlags.StringLiteral |
    ts.TypeFlags.BooleanLike |
    ts.TypeFlags.Undefined |
    ts.TypeFlags.Null |
    ts.TypeFlags.Never;
  return (type.flags & narrow) !== 0;
}

/** `Object.hasOwn(o, k)` or `Object.prototype.hasOwnProperty.call(o, k)` on these texts, in `test`. */
function testsOwnKey(test, objectText, keyText, sourceCode) {
  if (!test) return false;
  if (test.type === 'LogicalExpression' && test.operator === '&&') {
    return (
      testsOwnKey(test.left, objectText, keyText, sourceCode) ||
      testsOwnKey(test.right, objectText, keyText, sourceCode)
    );
  }
  if (test.type !== 'CallExpression') return false;
  const callee = sourceCode.getText(test.callee);
  const args = test.arguments.map((a) => sourceCode.getText(a));
  if (callee === 'Object.hasOwn') return args[0] === objectText && args[1] === keyText;
  if (callee === 'Object.prototype.hasOwnProperty.call') return args[0] === objectText && args[1] === keyText;
  return false;
}

/** Is `node` only reached when an own-property check of the same object and key passed? */
function isOwnKeyGuarded(node, sourceCode) {
  const objectText = sourceCode.getText(node.object);
  const keyText = sourceCode.getText(node.property);
  let child = node;
  for (let parent = node.parent; parent; child = parent, parent = parent.parent) {
    const test =
      (parent.type === 'ConditionalExpression' || parent.type === 'IfStatement') &&
      parent.consequent === child
        ? parent.test
        : parent.type === 'LogicalExpression' && parent.operator === '&&' && parent.right === child
          ? parent.left
          : null;
    if (testsOwnKey(test, objectText, keyText, sourceCode)) return true;
  }
  return false;
}

/**
 * eslint-plugin-security's detect-object-injection, with types: it flags every `obj[key]`,
 * including keys TypeScript proves are a literal union. This flags only keys typed as a wide
 * `string` (or `any`/`unknown`), the ones that can be `__proto__` or `constructor`, unless an
 * `Object.hasOwn` check of the same object and key guards the access.
 */
const noWideStringKey = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Forbid computed member access with a key typed as a plain string (prototype pollution)',
    },
    schema: [],
    messages: {
      wide: 'Key `{{key}}` is typed `{{type}}`: a value like `__proto__` or `constructor` reaches the prototype. Narrow it (zod enum, `keyof`), check Object.hasOwn first, or use a Map.',
    },
  },
  create(context) {
    const services = context.sourceCode.parserServices;
    if (!services?.program)
      throw new Error(
        'local-security/no-wide-string-key needs type information (parserOptions.projectService)',
      );
    const checker = services.program.getTypeChecker();
    const typeOf = (node) => checker.getTypeAtLocation(services.esTreeNodeToTSNodeMap.get(node));
    return {
      MemberExpression(node) {
        if (!node.computed) return;
        const key = node.property;
        if (key.type === 'Literal' || (key.type === 'TemplateLiteral' && key.expressions.length === 0))
          return;
        const keyType = typeOf(key);
        if (isNarrowKey(keyType, checker) || isOwnKeyGuarded(node, context.sourceCode)) return;
        context.report({
          node: key,
          messageId: 'wide',
          data: { key: context.sourceCode.getText(key).slice(0, 40), type: checker.typeToString(keyType) },
        });
      },
    };
  },
};

export default {
  meta: { name: 'local-security' },
  rules: {
    'no-path-auth': noPathAuth,
    'strict-router': strictRouter,
    'no-raw-outbound-request': noRawOutboundRequest,
    'no-html-sink': noHtmlSink,
    'no-wide-string-key': noWideStringKey,
  },
};
