package systems

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/tapis-go/tapis/tenancy"
)

// hiddenOptions lists the valid scheduler-profile hidden options.
var hiddenOptions = []string{"MEM", "PARTITION"}

// HiddenOptions returns the valid scheduler-profile hidden options.
func HiddenOptions() []string { return slices.Clone(hiddenOptions) }

// CreateProfile stores a scheduler profile owned by the caller (or, for a
// tenant admin, by the named owner).
func (svc *Service) CreateProfile(ctx context.Context, p tenancy.Principal, sp SchedulerProfile) (SchedulerProfile, error) {
	sp.Name, sp.Owner = strings.TrimSpace(sp.Name), strings.TrimSpace(sp.Owner)
	sp.Tenant = p.TenantID
	if sp.Owner == "" || strings.EqualFold(sp.Owner, VarAPIUserID) {
		sp.Owner = p.Username
	}
	var pr problems
	switch {
	case sp.Name == "":
		pr.add("SYSLIB_CREATE_MISSING_ATTR", "name is required.")
	case len(sp.Name) > 80:
		pr.add("SYSLIB_TOO_LONG_ATTR", "name is longer than 80 characters.")
	case !idPattern.MatchString(sp.Name):
		pr.add("SYSLIB_INVALID_STR_ATTR", "name %q: letters, digits and -._~ only, starting with a letter or digit.", sp.Name)
	}
	if strings.ContainsRune(sp.Description, 0) || hasControl(sp.Owner) {
		pr.add("SYSLIB_CTL_CHR_ATTR", "description and owner must not contain control characters (NUL included).")
	}
	if len(sp.Description) > 2048 {
		pr.add("SYSLIB_TOO_LONG_ATTR", "description is longer than 2048 characters.")
	}
	if len(sp.Owner) > 60 {
		pr.add("SYSLIB_TOO_LONG_ATTR", "owner is longer than 60 characters.")
	}
	for i, m := range sp.ModuleLoads {
		if m.ModuleLoadCommand == "" {
			pr.add("SYSLIB_PRF_INVALID_MODULE", "moduleLoads[%d].moduleLoadCommand is required.", i)
		}
		if slices.Contains(m.ModulesToLoad, "") {
			pr.add("SYSLIB_PRF_INVALID_MODULE", "moduleLoads[%d].modulesToLoad has an empty name.", i)
		}
	}
	for _, h := range sp.HiddenOptions {
		if !slices.Contains(hiddenOptions, h) {
			pr.add("SYSLIB_INVALID_ENUM", "hiddenOptions %q is not one of %v.", h, hiddenOptions)
		}
	}
	if err := pr.err("PRF_CREATE"); err != nil {
		return SchedulerProfile{}, err
	}
	if _, err := svc.getProfile(ctx, p.TenantID, sp.Name); err == nil {
		return SchedulerProfile{}, errorf(ErrAlreadyExists, "SYSAPI_PRF_EXISTS Scheduler profile %s already exists.", sp.Name)
	} else if !errors.Is(err, ErrNotFound) {
		return SchedulerProfile{}, err
	}
	if err := svc.mayManageProfile(ctx, p, sp); err != nil {
		return SchedulerProfile{}, err
	}
	now := svc.stamp()
	sp.UUID, sp.Created, sp.Updated = uuid.NewString(), now, now
	if sp.ModuleLoads == nil {
		sp.ModuleLoads = []ModuleLoad{}
	}
	if sp.HiddenOptions == nil {
		sp.HiddenOptions = []string{}
	}
	if err := svc.store.CreateProfile(ctx, sp); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return SchedulerProfile{}, errorf(ErrAlreadyExists, "SYSAPI_PRF_EXISTS Scheduler profile %s already exists.", sp.Name)
		}
		return SchedulerProfile{}, err
	}
	return sp, nil
}

// mayManageProfile: the profile's owner or a tenant admin.
func (svc *Service) mayManageProfile(ctx context.Context, p tenancy.Principal, sp SchedulerProfile) error {
	if p.Username != "" && p.Username == sp.Owner {
		return nil
	}
	reg, err := svc.ten.Registry(ctx)
	if err != nil {
		return err
	}
	if !p.IsService() && reg.IsTenantAdmin(p.TenantID, p.Username) {
		return nil
	}
	return errorf(ErrForbidden, "SYSLIB_PRF_UNAUTH User %s may not manage scheduler profile %s owned by %s.", p.Username, sp.Name, sp.Owner)
}

// GetProfile returns a scheduler profile of the caller's tenant.
func (svc *Service) GetProfile(ctx context.Context, p tenancy.Principal, name string) (SchedulerProfile, error) {
	sp, err := svc.getProfile(ctx, p.TenantID, name)
	if errors.Is(err, ErrNotFound) {
		return SchedulerProfile{}, errorf(ErrNotFound, "SYSAPI_PRF_NOT_FOUND Scheduler profile %s not found.", name)
	}
	return sp, err
}

// ListProfiles returns the scheduler profiles of the caller's tenant.
func (svc *Service) ListProfiles(ctx context.Context, p tenancy.Principal) ([]SchedulerProfile, error) {
	return svc.store.ListProfiles(ctx, p.TenantID)
}

// DeleteProfile removes a profile (owner or tenant admin). A missing
// profile is a 404 (the original answered 200 "deleted" with 0 changes).
func (svc *Service) DeleteProfile(ctx context.Context, p tenancy.Principal, name string) (int, error) {
	notFound := errorf(ErrNotFound, "SYSAPI_PRF_NOT_FOUND Scheduler profile %s not found.", name)
	sp, err := svc.getProfile(ctx, p.TenantID, name)
	if errors.Is(err, ErrNotFound) {
		return 0, notFound
	}
	if err != nil {
		return 0, err
	}
	if err := svc.mayManageProfile(ctx, p, sp); err != nil {
		return 0, err
	}
	if err := svc.store.DeleteProfile(ctx, p.TenantID, name); err != nil {
		if errors.Is(err, ErrNotFound) {
			return 0, notFound
		}
		return 0, err
	}
	return 1, nil
}
