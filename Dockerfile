# Access Manager: one image, two services, compiled JavaScript on the current Node LTS (26). Auth by default;
# Identity with
#   command: ["node", "dist/identity-service/main.js"]
# and the CLIs as `node dist/platform/migrate-cli.js up`, `node dist/bootstrap/cli.js apply`, `node dist/policies/cli.js`,
# `node dist/licensing/cli.js`, `node dist/auth-service/keys/cli.js rotate`, `node dist/doctor/cli.js`.
# The build stage compiles with the dev dependencies (`npm run build`: dist/, with the migrations, models and seeds
# beside the code); the image holds the production dependencies, dist/ and package.json (`"type": "module"`).
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json ./client/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:26-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json ./client/
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:26-slim
WORKDIR /app
ENV NODE_ENV=production \
    SERVER_HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 4000 4001
# node runs as PID 1 itself, so SIGTERM reaches the graceful shutdown (npm would not forward it).
CMD ["node", "dist/auth-service/main.js"]
