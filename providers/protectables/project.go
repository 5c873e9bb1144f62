package protectables

import (
	"context"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// ProjectPluginName is the project plugin's entry-point name.
const ProjectPluginName = "project"

func init() {
	Register(ProjectPluginName, func(context.Context, *config.Config) (Plugin, error) { return Project{}, nil })
}

// Project is the Keystone project protectable (protectable_plugins/
// project.py): the caller's project, known from the request context alone.
type Project struct{}

// ResourceType is OS::Keystone::Project.
func (Project) ResourceType() string { return karbor.ProjectResourceType }

// ParentTypes is empty: a project depends on nothing.
func (Project) ParentTypes() []string { return nil }

// List returns the caller's project.
func (Project) List(_ context.Context, rc *karbor.RequestContext, _ Parameters) ([]graph.Resource, error) {
	return []graph.Resource{{Type: karbor.ProjectResourceType, ID: rc.ProjectID, Name: rc.ProjectName}}, nil
}

// Show returns the project of that id, named after the caller's project (the
// Python plugin never asks Keystone).
func (Project) Show(_ context.Context, rc *karbor.RequestContext, id string, _ Parameters) (*graph.Resource, error) {
	return &graph.Resource{Type: karbor.ProjectResourceType, ID: id, Name: rc.ProjectName}, nil
}

// Dependents is never called, a project having no parent types; it returns
// nothing.
func (Project) Dependents(context.Context, *karbor.RequestContext, graph.Resource) ([]graph.Resource, error) {
	return nil, nil
}
