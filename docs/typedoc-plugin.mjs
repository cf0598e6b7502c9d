// SPDX-License-Identifier: MIT
// Local TypeDoc plugin of the root typedoc.json (`pnpm run docs`). It changes how the API reference is laid
// out, never what the packages export:
//
// 1. Module names. TypeDoc converts the three packages in one program (so that `tvdcn`'s
//    `export * from '@tvdcn/ops'` and @tvdcn/ops's re-exported errors show as "Re-exports X" links to the
//    package that defines X, rather than as duplicate pages), and in that mode it names a module after its
//    path (`shape/src`). This names each module after its nearest package.json (`@tvdcn/shape`) and, when
//    the entry file has no `@packageDocumentation` comment, uses the package's description as its summary.
//
// 2. Ops made by a factory. `export const add = defineOp('add', (op, a: Tensor, b: Tensor) => ...)` has the
//    type `(...args: [a: Tensor, b: Tensor]) => Tensor`, which TypeDoc shows as a variable taking
//    `...args`, and whose `@param a` / `@param b` it reports as unused. A variable whose type is a single
//    call signature taking only a rest parameter of a labelled tuple is documented here as the function
//    it is: `add(a, b)`, one parameter per tuple element, with its @param text.
//
// 3. The "referenced but not included in the documentation" check. TypeDoc's own (validation.notExported)
//    only looks at types of the project's package, which here is the private root package; this runs the
//    same check for types of the documented packages, so that a public signature naming an unexported or
//    @internal type is reported.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  Application,
  Comment,
  Converter,
  ParameterReflection,
  ReflectionFlag,
  ReflectionKind,
  ReflectionType,
  TupleType,
  makeRecursiveVisitor,
} from 'typedoc';
import ts from 'typescript';

/** @param {string} file @returns {{ name?: string, description?: string } | undefined} */
function manifestOf(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8'));
  }
  return undefined;
}

/**
 * @param {import('typedoc').Context} context
 * @param {import('typedoc').DeclarationReflection} reflection
 */
function nameModuleAfterPackage(context, reflection) {
  if (!reflection.kindOf(ReflectionKind.Module)) return;
  const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName;
  const manifest = file ? manifestOf(file) : undefined;
  if (!manifest?.name) return;
  reflection.name = manifest.name;
  if (!reflection.comment && manifest.description) {
    reflection.comment = new Comment([{ kind: 'text', text: manifest.description }]);
  }
}

/**
 * The signature and labelled tuple elements of a `(...args: [a: A, b?: B]) => R` variable, or undefined.
 * @param {import('typedoc').DeclarationReflection} reflection
 */
function restTupleSignature(reflection) {
  if (!reflection.kindOf(ReflectionKind.Variable) || !(reflection.type instanceof ReflectionType)) return undefined;
  const literal = reflection.type.declaration;
  if (literal.children?.length || literal.indexSignatures?.length || literal.signatures?.length !== 1) return undefined;
  const [signature] = literal.signatures;
  const [rest, ...others] = signature.parameters ?? [];
  if (!rest || others.length || !rest.flags.isRest || !(rest.type instanceof TupleType)) return undefined;
  const elements = rest.type.elements;
  if (!elements.every((element) => element.type === 'namedTupleMember')) return undefined;
  return { literal, signature, rest, elements };
}

/**
 * The declarations of the labelled tuple elements of variables whose type is `(...args: [...]) => R` (the
 * parameters of the function given to the factory), recorded while TypeScript's checker is at hand. They
 * tell what TypeDoc's tuple type does not: a parameter with a default value is optional, and its default.
 * @type {WeakMap<import('typedoc').Reflection, readonly (ts.NamedTupleMember | ts.ParameterDeclaration)[]>}
 */
const tupleElementDeclarations = new WeakMap();

/**
 * @param {import('typedoc').Context} context
 * @param {import('typedoc').DeclarationReflection} reflection
 */
function recordTupleElementDeclarations(context, reflection) {
  if (!reflection.kindOf(ReflectionKind.Variable)) return;
  const symbol = context.getSymbolFromReflection(reflection);
  const declaration = symbol?.valueDeclaration;
  if (!symbol || !declaration) return;
  const signatures = context.checker.getTypeOfSymbolAtLocation(symbol, declaration).getCallSignatures();
  const rest = signatures.length === 1 ? signatures[0].getParameters()[0] : undefined;
  if (!rest) return;
  const tuple = /** @type {ts.TupleTypeReference} */ (context.checker.getTypeOfSymbol(rest));
  const declarations = tuple.target?.labeledElementDeclarations;
  if (declarations) tupleElementDeclarations.set(reflection, declarations);
}

/**
 * @param {import('typedoc').Context} context
 */
function documentRestTupleVariablesAsFunctions(context) {
  const project = context.project;
  for (const reflection of project.getReflectionsByKind(ReflectionKind.Variable)) {
    const variable = /** @type {import('typedoc').DeclarationReflection} */ (reflection);
    const found = restTupleSignature(variable);
    if (!found) continue;
    const { literal, signature, rest, elements } = found;
    const declarations = tupleElementDeclarations.get(variable);

    signature.parameters = elements.map((element, i) => {
      const parameter = new ParameterReflection(element.name, ReflectionKind.Parameter, signature);
      parameter.type = element.element;
      const declaration = declarations?.[i];
      const initializer = declaration && ts.isParameter(declaration) ? declaration.initializer : undefined;
      if (element.isOptional || declaration?.questionToken || initializer) {
        parameter.setFlag(ReflectionFlag.Optional, true);
      }
      if (initializer) parameter.defaultValue = initializer.getText();
      project.registerReflection(parameter, undefined, undefined);
      return parameter;
    });
    project.removeReflection(rest);

    // Now the function's own signature, as TypeDoc makes for `export function`: the comment and the
    // source location of the variable (not of the factory's return type) move onto it.
    signature.parent = variable;
    project.reflectionChildren.get(variable.id).push(signature.id);
    literal.signatures = [];
    project.removeReflection(literal);
    signature.name = variable.name;
    signature.sources = variable.sources;
    if (!signature.comment && variable.comment) {
      signature.comment = variable.comment;
      variable.comment = undefined;
    }
    variable.kind = ReflectionKind.Function;
    variable.setFlag(ReflectionFlag.Const, false);
    variable.type = undefined;
    variable.signatures = [signature];
  }
}

/**
 * @param {import('typedoc').Application} app
 * @param {import('typedoc').ProjectReflection} project
 */
function warnAboutUndocumentedReferencedTypes(app, project) {
  if (!app.options.getValue('validation').notExported) return;
  const packages = new Set(project.getReflectionsByKind(ReflectionKind.Module).map((module) => module.name));
  const intentional = new Set(app.options.getValue('intentionallyNotExported'));
  const warned = new Set();
  /** @type {import('typedoc').Reflection} */
  let owner = project;
  const visitor = makeRecursiveVisitor({
    reference(type) {
      if (type.reflection || type.externalUrl || type.isIntentionallyBroken()) return;
      if (!type.package || !packages.has(type.package) || intentional.has(type.qualifiedName)) return;
      const key = type.symbolId
        ? `${type.symbolId.packageName}/${type.symbolId.packagePath}:${type.qualifiedName}`
        : type.qualifiedName;
      if (warned.has(key)) return;
      warned.add(key);
      const where = type.symbolId ? `${type.symbolId.packageName}/${type.symbolId.packagePath}` : type.package;
      app.logger.validationWarning(
        `${type.qualifiedName}, defined in ${where}, is referenced by ${owner.getFriendlyFullName()} but not included in the documentation`,
      );
    },
  });
  for (const reflection of Object.values(project.reflections)) {
    owner = reflection;
    const r = /** @type {any} */ (reflection);
    r.type?.visit(visitor);
    r.default?.visit(visitor);
    // Not extendedTypes: an @internal base class is fine there, its members are listed on the subclass.
    for (const type of r.implementedTypes ?? []) type.visit(visitor);
  }
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, nameModuleAfterPackage);
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, recordTupleElementDeclarations);
  // Before TypeDoc's CommentPlugin (priority 0) hands the @param tags to the parameters.
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, documentRestTupleVariablesAsFunctions, 100);
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => warnAboutUndocumentedReferencedTypes(app, project));
}
