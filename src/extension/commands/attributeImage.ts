// Attribute Prediction: for an image from the Explorer, an editor title, or a pick.
import * as vscode from 'vscode';
import type { ParamValues } from '../../shared/protocol';
import type { Deps } from '../deps';
import { activeImage, chooseImage, chooseModel, isImage } from '../modelPicker';
import { isTrusted, requireTrust } from '../trust';

export interface AttributeOptions {
  /** ask for the model even when one was used before */
  pickModel?: boolean;
  model?: string;
  method?: string;
  params?: ParamValues;
}

/** `uri` comes from the Explorer or editor title menu; without it the active image or a pick is used. */
export async function attributeImage(deps: Deps, uri?: vscode.Uri, opts: AttributeOptions = {}): Promise<void> {
  const image = uri instanceof vscode.Uri && isImage(uri) ? uri : activeImage() ?? (await chooseImage());
  if (!image) return;
  if (!isTrusted()) {
    // The panel says why nothing runs; the notification offers to manage trust.
    deps.panel.show();
    void requireTrust();
    return;
  }
  const model = opts.model ?? (await chooseModel(deps.models, image, opts.pickModel));
  if (!model) return;
  await deps.models.setActive(model, image);
  deps.panel.show();
  if (!(await deps.panel.load(model, image))) return;
  await deps.panel.run({ method: opts.method, params: opts.params });
}

/** The palette's Attribute Prediction…: always asks for the image, and for the model when there are several. */
export async function attributePrediction(deps: Deps): Promise<void> {
  const image = await chooseImage();
  if (!image) return;
  await attributeImage(deps, image, { pickModel: true });
}
