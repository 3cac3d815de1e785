# Access Manager: one image, two services. Auth by default; Identity with
#   command: ["node", "--import", "tsx", "identity-service/main.ts"]
# The sources run through tsx (there is no build step). tsx is a devDependency, which `--omit=dev` leaves
# out, so it is installed on its own, at the version package-lock.json pins, and copied beside the
# production dependencies.
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && TSX_VERSION="$(node -p "require('./package-lock.json').packages['node_modules/tsx'].version")" \
 && mkdir /tmp/tsx && cd /tmp/tsx && echo '{"private":true}' > package.json \
 && npm install --no-audit --no-fund "tsx@${TSX_VERSION}" \
 && cp -rn /tmp/tsx/node_modules/. /app/node_modules/ \
 && rm -rf /tmp/tsx

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
