import type supertest from 'supertest';
import { commitWithFile } from './fixtures';
import { ADMIN_TOKEN, bearer } from './test-registry';

export const auth = bearer(ADMIN_TOKEN);

/**
 * A project with one model and `ready` committed versions (1..ready), plus `drafts` drafts after
 * them. Each ready version holds one small file, different per version unless `sameContent`
 * (then every version has the same manifest digest).
 */
export async function seedModel(
  http: ReturnType<typeof supertest>,
  project: string,
  model: string,
  ready: number,
  drafts = 0,
  options: { sameContent?: boolean } = {},
): Promise<void> {
  const created = await http.post('/api/v1/projects').set(auth).send({ name: project });
  if (created.status !== 201 && created.body.code !== 'project_exists') throw new Error(JSON.stringify(created.body));
  await http.post(`/api/v1/projects/${project}/models`).set(auth).send({ name: model }).expect(201);
  for (let index = 0; index < ready + drafts; index++) {
    const version = await http.post(`/api/v1/projects/${project}/models/${model}/versions`).set(auth).send({}).expect(201);
    if (index < ready) {
      const content = options.sameContent ? `${project}/${model}` : `${project}/${model}@${version.body.number}`;
      await commitWithFile(http, `/api/v1/projects/${project}/models/${model}/versions/${version.body.number}`, content);
    }
  }
}
