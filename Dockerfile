# The service image: `notes-migrator serve|api|worker|migrate …`. Node 20 (the runtime the
# dependency pins target, see package.json "//engines").
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080
# Heap caps keep a worker's RSS flat (~140 MB) over runs of any size; see README "Performance".
ENTRYPOINT ["node", "--max-semi-space-size=4", "--max-old-space-size=256", "dist/src/cli.js"]
CMD ["serve"]
