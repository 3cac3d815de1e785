# Access Manager: one image, two services. Auth by default; Identity with
#   command: ["node", "--import", "tsx", "identity-service/main.ts"]
# The sources run through tsx (there is no build step), so tsx is installed next to the production
# dependencies, at the version package-lock.json pins.
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm install --no-save --no-audit --no-fund --omit=dev \
      "tsx@$(node -p "require('./package-lock.json').packages['node_modules/tsx'].version")"

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production \
    SERVER_HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY . .
USER node
EXPOSE 4000 4001
# node runs as PID 1 itself, so SIGTERM reaches the graceful shutdown (npm would not forward it).
CMD ["node", "--import", "tsx", "auth-service/main.ts"]
