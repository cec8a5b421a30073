# hz-share-gateway: builds the project (type-check + Prisma client) and runs the same start
# command as `npm start`, in production mode. Set DATABASE_URL to use an external PostgreSQL; without it the
# embedded PostgreSQL keeps its data in /app/.data (mount a volume there).
FROM node:20.20-bookworm-slim

WORKDIR /app
# Production mode: tokens only (no X-Dev-* identity headers); it needs AUDIT_HASH_KEY and trusted
# keys (AUTH_JWKS_URL or AUTH_PUBLIC_KEYS_DIR) at run time.
ENV NODE_ENV=production \
    GATEWAY_MODE=production \
    HOST=0.0.0.0 \
    PORT=4000

COPY package.json package-lock.json ./
COPY scripts ./scripts
# patch-package applies these to node_modules during npm ci (postinstall).
COPY patches ./patches
COPY prisma ./prisma
COPY prisma.config.ts ./
# Dev dependencies are needed: the Prisma CLI generates the client and tsx runs the sources.
RUN npm ci --no-audit --no-fund

COPY . .
RUN npm run build

# PostgreSQL refuses to run as root; the embedded server runs as this user.
RUN groupadd --system postgres && useradd --system --gid postgres postgres \
    && mkdir -p /app/.data && chown -R postgres:postgres /app/.data
VOLUME ["/app/.data"]

EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["npm", "start"]
