// `boxinit host promote BOOK [--rollback]`: the seed's Ansible task that
// tagged IMAGE:latest as IMAGE:run, plus one step back: the run image it
// replaces is kept as IMAGE:previous, and --rollback swaps the two. Tags
// move by image id, so a build finishing meanwhile cannot slip in between.
import type { Book } from "./book-types.ts";
import { imageRef, TAGS } from "./container-spec.ts";
import { engineCall, findImage, type Engine } from "./engine.ts";
import { HOST_EXIT, HostError } from "./errors.ts";
import type { HostOutput } from "./output.ts";

const shortId = (id: string): string => id.replace(/^sha256:/, "").slice(0, 12);

const tagImage = async (engine: Engine, book: Book, id: string, tag: string): Promise<void> => {
  await engineCall(engine, `tag ${shortId(id)} as ${imageRef(book, tag)}`, async (docker) => await docker.getImage(id).tag({ repo: book.image, tag }));
};

// The container keeps the image it was created from; say so, or a user
// expects the promote alone to change what runs.
const NEXT_RUN = "the running container keeps its image until the next start (host cron --run, or host run)";

/** Tag IMAGE:latest as :run, keeping the replaced :run as :previous. */
export const promoteBook = async (engine: Engine, book: Book, out: HostOutput): Promise<number> => {
  const latest = await findImage(engine, imageRef(book, TAGS.latest));
  if (latest === undefined) {
    throw new HostError(HOST_EXIT.imageNotFound, `image ${imageRef(book, TAGS.latest)} not found: nothing to promote`, `build it first (docker build -t ${imageRef(book, TAGS.latest)} ...)`);
  }
  const run = await findImage(engine, imageRef(book, TAGS.run));
  if (run?.Id === latest.Id) {
    out.say(`${imageRef(book, TAGS.run)} is already ${imageRef(book, TAGS.latest)} (${shortId(latest.Id)}): nothing to do`);
    return HOST_EXIT.ok;
  }
  if (run !== undefined) {
    await tagImage(engine, book, run.Id, TAGS.previous);
    out.say(`${imageRef(book, TAGS.previous)} = ${shortId(run.Id)} (the run image until now, kept for --rollback)`);
  }
  await tagImage(engine, book, latest.Id, TAGS.run);
  out.say(`${imageRef(book, TAGS.run)} = ${shortId(latest.Id)} (${imageRef(book, TAGS.latest)}); ${NEXT_RUN}`);
  return HOST_EXIT.ok;
};

/** Swap IMAGE:run and IMAGE:previous (a second rollback undoes the first). */
export const rollbackBook = async (engine: Engine, book: Book, out: HostOutput): Promise<number> => {
  const previous = await findImage(engine, imageRef(book, TAGS.previous));
  if (previous === undefined) {
    throw new HostError(HOST_EXIT.imageNotFound, `image ${imageRef(book, TAGS.previous)} not found: nothing to roll back to`, "a promote keeps the replaced run image as :previous; none has happened yet");
  }
  const run = await findImage(engine, imageRef(book, TAGS.run));
  await tagImage(engine, book, previous.Id, TAGS.run);
  if (run !== undefined && run.Id !== previous.Id) {
    await tagImage(engine, book, run.Id, TAGS.previous);
    out.say(`${imageRef(book, TAGS.run)} = ${shortId(previous.Id)} (was :previous); ${imageRef(book, TAGS.previous)} = ${shortId(run.Id)} (was :run); ${NEXT_RUN}`);
  } else {
    out.say(`${imageRef(book, TAGS.run)} = ${shortId(previous.Id)} (was :previous); ${NEXT_RUN}`);
  }
  return HOST_EXIT.ok;
};
