/** The SecretBox sealing webhook secrets, built from WEBHOOK_SECRET_KEY. */
export const SECRET_BOX = Symbol('SECRET_BOX');
