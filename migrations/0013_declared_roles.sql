-- Up Migration
-- The application whose declaration created a role. A declaration may change only the roles its own application
-- created: ownership is this id, never a role's name or description, which an administrator can imitate.
-- Deleting the application leaves its roles unowned: no later application, whatever its name, takes them over.
ALTER TABLE roles ADD COLUMN declared_by uuid;
ALTER TABLE roles ADD CONSTRAINT roles_declared_by_fkey
  FOREIGN KEY (org_id, declared_by) REFERENCES applications (org_id, id) ON DELETE SET NULL (declared_by);
-- Roles declared before this column: those a product's declaration names and describes as its own.
UPDATE roles r SET declared_by = d.application_id
  FROM declarations d
 WHERE d.org_id = r.org_id AND NOT r.builtin AND r.description = 'declared by ' || d.slug;

-- Down Migration
ALTER TABLE roles DROP COLUMN declared_by;
