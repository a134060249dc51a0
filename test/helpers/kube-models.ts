// Full validation of Kubernetes objects against the API's OpenAPI schema
// (kubernetes-models, a devDependency: the shipped binary only checks by hand,
// src/host/kube-check.ts). Unknown keys are not caught by the schema; kinds
// this project does not generate are refused, so a new kind gets a model here.
import { ConfigMap, PersistentVolumeClaim, Pod, Service } from "kubernetes-models/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { CronJob, Job } from "kubernetes-models/batch/v1";

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  ConfigMap, PersistentVolumeClaim, Pod, Service, Deployment, StatefulSet, CronJob, Job,
};

/** Throws the schema's complaint, naming the object, for anything the API server would refuse by its schema. */
export const validateObject = (object: { kind?: unknown; metadata?: { name?: unknown } }): void => {
  const Model = typeof object.kind === "string" ? MODELS[object.kind] : undefined;
  if (Model === undefined) throw new Error(`no model for kind ${JSON.stringify(object.kind)}`);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`${object.kind} ${String(object.metadata?.name)}: ${(error as Error).message}`, { cause: error });
  }
};
